using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Collectives.Peer;

/// <summary>Deterministic linear layers: weights drawn from an explicit generator, not the global one.</summary>
internal static class SeededLinear
{
    internal static Linear Create(long inputs, long outputs, Generator g)
    {
        var layer = nn.Linear(inputs, outputs);
        double bound = 1 / Math.Sqrt(inputs); // PyTorch's default range, drawn from g
        using var noGrad = torch.no_grad();
        layer.weight!.copy_(torch.rand([outputs, inputs], generator: g) * (2 * bound) - bound);
        layer.bias!.copy_(torch.rand([outputs], generator: g) * (2 * bound) - bound);
        return layer;
    }
}

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
        var g = new Generator(1234);
        _image = SeededLinear.Create(6, 4, g);
        _text = SeededLinear.Create(5, 4, g);
        _images = torch.randn([GlobalRows, 6], generator: g).DetachFromDisposeScope();
        _texts = torch.randn([GlobalRows, 5], generator: g).DetachFromDisposeScope();
    }

    public IReadOnlyList<(string Name, Parameter Tensor)> Parameters =>
        _image.named_parameters().Select(p => ("image." + p.name, p.parameter)).Concat(_text.named_parameters().Select(p => ("text." + p.name, p.parameter))).ToList();

    /// <summary>Symmetric InfoNCE of the local rows against all gathered columns (temperature 0.1).</summary>
    public Tensor Loss(ProcessGroup? group, int start, int count)
    {
        using var scope = torch.NewDisposeScope();
        var v = nn.functional.normalize(_image.forward(_images.narrow(0, start, count)), dim: -1);
        var t = nn.functional.normalize(_text.forward(_texts.narrow(0, start, count)), dim: -1);
        var allV = group is null ? v : group.AllGatherWithGrad(v);
        var allT = group is null ? t : group.AllGatherWithGrad(t);
        var labels = torch.arange(start, start + count, dtype: ScalarType.Int64);
        var i2t = nn.functional.cross_entropy(v.matmul(allT.T) * 10.0, labels);
        var t2i = nn.functional.cross_entropy(t.matmul(allV.T) * 10.0, labels);
        return ((i2t + t2i) * 0.5).MoveToOuterDisposeScope();
    }
}

/// <summary>A small MLP regression trained with AdamW; each rank takes its rows of every step's batch.</summary>
public sealed class RegressionProblem
{
    public const int GlobalRows = 16;
    public const int Steps = 10;
    public const double LearningRate = 0.01;
    public const double WeightDecay = 0.1;

    private readonly Linear _hidden, _out;

    public RegressionProblem()
    {
        var g = new Generator(99);
        _hidden = SeededLinear.Create(8, 16, g);
        _out = SeededLinear.Create(16, 3, g);
    }

    public IReadOnlyList<(string Name, Parameter Tensor)> Parameters =>
        _hidden.named_parameters().Select(p => ("hidden." + p.name, p.parameter)).Concat(_out.named_parameters().Select(p => ("out." + p.name, p.parameter))).ToList();

    public Tensor Loss(int step, int start, int count)
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(1000 + (ulong)step);
        var x = torch.randn([GlobalRows, 8], generator: g).narrow(0, start, count);
        var y = torch.randn([GlobalRows, 3], generator: g).narrow(0, start, count);
        var prediction = _out.forward(nn.functional.gelu(_hidden.forward(x)));
        return nn.functional.mse_loss(prediction, y).MoveToOuterDisposeScope();
    }

    /// <summary>One optimizer step as both the single process and every rank take it; bucketer null in one process.</summary>
    public static void Step(RegressionProblem problem, optim.Optimizer optimizer, GradientBucketer? bucketer, int step, int start, int count)
    {
        optimizer.zero_grad();
        using (var loss = problem.Loss(step, start, count)) loss.backward();
        bucketer?.AllReduceAverage();
        nn.utils.clip_grad_norm_(problem.Parameters.Select(p => p.Tensor), 1.0);
        optimizer.step();
    }
}
