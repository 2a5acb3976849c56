using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Training;

/// <summary>
/// The overlap of the gradient all-reduce with backward sends a layer's gradients when <see cref="Tensors.GradientReadiness"/>
/// reports the layer; sent earlier, a bucket would average a partial gradient and ranks would drift apart.
/// </summary>
public class GradientReadinessTests
{
    private static readonly CommerceMMConfig Tiny = CommerceMMConfig.Tiny() with { Mim = new MimConfig { Prototypes = 32 } };

    /// <summary>Three steps as the trainer takes them: AdamW over flat buffers, gradients cleared between steps, pass 2 armed.</summary>
    [Fact]
    public void TwoPassStep_ReportedLayer_HoldsItsFinalGradients()
    {
        using var model = new CommerceMMModel(Tiny, 1);
        using var batches = new SyntheticBatch(Tiny, rows: 6, seed: 11);
        using var optimizer = new AdamWOptimizer(model.TrainableParameters(), new AdamWOptions());
        var check = new ReadinessCheck(model, optimizer.Flat);

        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            using (var g = new Generator(77 + (ulong)step))
            using (var plan = Pass1Plan.Create(Tiny, batches.Pairs, g))
            using (var pass1 = Pass1.Run(model, batches.Pairs, plan, Tiny.FullDepth, ModelCollectives.Single, g, Tiny.Weight))
                pass1.Total!.backward();
            check.AssertNoneReported();
            check.Arm();
            using (var pass2 = Pass2.Run(model, batches.Omni, Tiny.FullDepth, ModelCollectives.Single, Tiny.Weight))
                pass2.Total!.backward();
            check.AssertReportedLayersFinal($"step {step}");
            optimizer.Step(1e-3);
        }
    }
}
