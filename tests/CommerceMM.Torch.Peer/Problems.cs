using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.NN;

namespace CommerceMM.Torch.Peer;

/// <summary>
/// A two-tower contrastive problem: the global batch is a pure function of a seed, and each rank
/// takes rows [start, start + count). With group == null it computes the single-process loss.
/// The tests reference this assembly, so both sides compute exactly the same thing.
/// </summary>
public sealed class InfoNceProblem
{
    public const int GlobalRows = 12;

    private readonly Linear _image, _text;
    private readonly Tensor _images, _texts;

    public InfoNceProblem()
    {
        using var g = new Generator(1234);
        _image = new Linear(6, 4, generator: g);
        _text = new Linear(5, 4, generator: g);
        _images = DisposeScope.Detach(Torch.Randn([GlobalRows, 6], g));
        _texts = DisposeScope.Detach(Torch.Randn([GlobalRows, 5], g));
    }

    public IReadOnlyList<(string Name, Tensor Tensor)> Parameters =>
        _image.NamedParameters().Select(p => ("image." + p.Name, p.Tensor)).Concat(_text.NamedParameters().Select(p => ("text." + p.Name, p.Tensor))).ToList();

    /// <summary>Symmetric InfoNCE of the local rows against all gathered columns (temperature 0.1).</summary>
    public Tensor Loss(ProcessGroup? group, int start, int count)
    {
        using var scope = DisposeScope.Open();
        var v = _image.Forward(_images.Slice(0, start, start + count)).Normalize();
        var t = _text.Forward(_texts.Slice(0, start, start + count)).Normalize();
        var allV = group is null ? v : group.AllGatherWithGrad(v);
        var allT = group is null ? t : group.AllGatherWithGrad(t);
        var labels = Torch.Arange(start, start + count);
        var i2t = Losses.CrossEntropy(v.MatMul(allT.T) * 10.0, labels);
        var t2i = Losses.CrossEntropy(t.MatMul(allV.T) * 10.0, labels);
        return scope.MoveToOuter((i2t + t2i) * 0.5);
    }
}

/// <summary>A small MLP regression trained with AdamW; each rank takes its rows of every step's batch.</summary>
public sealed class RegressionProblem
{
    public const int GlobalRows = 16;
    public const int Steps = 10;
    public const double LearningRate = 0.01;

    private readonly Linear _hidden, _out;

    public RegressionProblem()
    {
        using var g = new Generator(99);
        _hidden = new Linear(8, 16, generator: g);
        _out = new Linear(16, 3, generator: g);
    }

    public IReadOnlyList<(string Name, Tensor Tensor)> Parameters =>
        _hidden.NamedParameters().Select(p => ("hidden." + p.Name, p.Tensor)).Concat(_out.NamedParameters().Select(p => ("out." + p.Name, p.Tensor))).ToList();

    public Tensor Loss(int step, int start, int count)
    {
        using var scope = DisposeScope.Open();
        using var g = new Generator(1000 + (ulong)step);
        var x = Torch.Randn([GlobalRows, 8], g).Slice(0, start, start + count);
        var y = Torch.Randn([GlobalRows, 3], g).Slice(0, start, start + count);
        var prediction = _out.Forward(_hidden.Forward(x).Gelu());
        return scope.MoveToOuter(Losses.MseLoss(prediction, y));
    }
}
