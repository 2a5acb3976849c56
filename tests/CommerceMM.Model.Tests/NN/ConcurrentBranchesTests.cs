using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.NN;

/// <summary>
/// The text and the image encoder side by side (<see cref="ConcurrentBranches"/>): the same losses and gradients as one
/// after the other, in either precision, with the thread-local settings carried over and failures brought back.
/// </summary>
public class ConcurrentBranchesTests
{
    private static readonly CommerceMMConfig Tiny = CommerceMMConfig.Tiny() with { Mim = new MimConfig { Prototypes = 32 } };

    /// <summary>Both passes' losses, then every parameter's gradient, of one step on a fresh model.</summary>
    private static (double[] Losses, Dictionary<string, float[]> Gradients, long SideBySideRuns) Step(Precision precision, int threads, int imageSize)
    {
        var config = Tiny with { Image = Tiny.Image with { Size = imageSize } };
        using var model = new CommerceMMModel(config, 3, new DeviceSettings(torch.CPU, precision));
        model.Branches.Threads = threads;
        using var batch = new SyntheticBatch(config, 6, 4);
        var losses = new List<double>();
        using (var g = new Generator(5))
        using (var plan = Pass1Plan.Create(config, batch.Pairs, g))
        using (var pass1 = Pass1.Run(model, batch.Pairs, plan, config.FullDepth, ModelCollectives.Single, g, config.Weight))
        using (var pass2 = Pass2.Run(model, batch.Omni, config.FullDepth, ModelCollectives.Single, config.Weight))
        {
            pass1.Backward();
            pass2.Backward();
            losses.AddRange(pass1.Results.Concat(pass2.Results).Select(r => r.Loss));
        }
        var gradients = new Dictionary<string, float[]>();
        foreach (var (name, p) in model.TrainableParameters())
        {
            using var grad = p.grad;
            if (grad is not null) gradients[name] = Scalars.ToArray<float>(grad);
        }
        return (losses.ToArray(), gradients, model.Branches.SideBySideRuns);
    }

    /// <param name="imageSize">28: 17 image tokens against 24 text tokens, so the MIM teacher goes with the image encoder;
    /// 35: 26 image tokens, so it goes with the text encoder</param>
    [Theory]
    [InlineData(Precision.Fp32, 28)]
    [InlineData(Precision.Bf16, 28)]
    [InlineData(Precision.Fp32, 35)]
    public void SideBySide_GivesExactlyTheLossesAndGradientsOfOneAfterTheOther(Precision precision, int imageSize)
    {
        var (lossesAlone, gradientsAlone, runsAlone) = Step(precision, threads: 1, imageSize);
        var (losses, gradients, runs) = Step(precision, threads: 2, imageSize);

        Assert.Equal(0, runsAlone);
        Assert.Equal(4, runs);   // each pass's forward and its encoders' backward
        Assert.Equal(lossesAlone, losses);
        Assert.Equal(gradientsAlone.Keys.Order(), gradients.Keys.Order());
        Assert.Contains(gradients.Keys, name => name.StartsWith("text.", StringComparison.Ordinal));
        Assert.Contains(gradients.Keys, name => name.StartsWith("image.", StringComparison.Ordinal));
        foreach (var (name, alone) in gradientsAlone) Assert.True(alone.SequenceEqual(gradients[name]), $"{name}: the gradients differ");
    }

    [Fact]
    public void Run_CarriesGradModeAndPrecisionToTheBranches_AndDefersOnlyWhatNeedsAGradient()
    {
        using var branches = new ConcurrentBranches(enabled: true) { Threads = 2 };
        using var deferred = new DeferredBackward();
        using var scope = torch.NewDisposeScope();
        var w = torch.ones(3, 3).requires_grad_(true);
        Tensor?[] Branch() => [MixedPrecision.MatMul(torch.ones(2, 3), w), null];
        Tensor?[][] outputs;
        using (MixedPrecision.Enter(Precision.Bf16))
        using (torch.no_grad())
            outputs = branches.Run(deferred, Branch, Branch);
        Assert.All(outputs, o => Assert.Equal(ScalarType.BFloat16, o[0]!.dtype));
        Assert.All(outputs, o => Assert.False(o[0]!.requires_grad));
        Assert.All(outputs, o => Assert.Null(o[1]));

        outputs = branches.Run(deferred, Branch, Branch);   // fp32, recording
        Assert.All(outputs, o => Assert.Equal(ScalarType.Float32, o[0]!.dtype));
        Assert.All(outputs, o => Assert.True(o[0]!.is_leaf));
        outputs[0][0]!.sum().backward();                      // only the first output reaches the loss
        Assert.Null(w.grad);
        deferred.Run(branches);
        Assert.Equal(Enumerable.Repeat(2f, 9), Scalars.ToArray<float>(w.grad!));   // d(sum of ones(2,3)·w)/dw, once
        Assert.Equal(2, branches.SideBySideRuns);
    }

    [Fact]
    public void Run_ABranchThrows_TheCallerGetsItsException_AndTheHelpersWorkOn()
    {
        using var branches = new ConcurrentBranches(enabled: true) { Threads = 2 };
        using var deferred = new DeferredBackward();
        using var scope = torch.NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() =>
            branches.Run(deferred, () => [torch.ones(2)], () => throw new ArgumentException("bad branch input")));
        Assert.Equal("bad branch input", error.Message);

        var outputs = branches.Run(deferred, () => [torch.ones(2)], () => [torch.zeros(2)]);
        Assert.Equal([1f, 1f], Scalars.ToArray<float>(outputs[0][0]!));
        Assert.Equal([0f, 0f], Scalars.ToArray<float>(outputs[1][0]!));
    }

    [Fact]
    public void Dropout_KeepsTheEncodersOneAfterTheOther()
    {
        using var model = new CommerceMMModel(Tiny with { Dropout = 0.1 }, 3);
        model.Branches.Threads = 2;
        using var batch = new SyntheticBatch(Tiny, 4, 4);
        using (var pass2 = Pass2.Run(model, batch.Omni, Tiny.FullDepth, ModelCollectives.Single, Tiny.Weight))
            pass2.Backward();
        Assert.Equal(0, model.Branches.SideBySideRuns);
    }

    [Fact]
    public void EncodersOfVeryUnequalWork_RunOneAfterTheOther()
    {
        Assert.True(CommerceMMModel.EncodersBalanced(Tiny));                      // 24 text tokens, 17 image tokens, 2 layers each
        Assert.True(CommerceMMModel.EncodersBalanced(CommerceMMConfig.Small()));  // 32 and 50, 4 layers each
        Assert.False(CommerceMMModel.EncodersBalanced(CommerceMMConfig.Base()));  // 64 and 197, 12 layers each
        using var model = new CommerceMMModel(Tiny with { Image = Tiny.Image with { Size = 56 } }, 3);   // 24 and 65
        Assert.False(model.Branches.Enabled);
    }
}
