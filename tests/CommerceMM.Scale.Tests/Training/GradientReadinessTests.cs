using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Losses;
using CommerceMM.Scale.Training;
using CommerceMM.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests.Training;

/// <summary>SCALE's one pass sends each layer's gradients when the layer is reported: they must be final by then (as CommerceMM's).</summary>
public class GradientReadinessTests
{
    private static readonly ScaleConfig Config = TestInputs.Small;

    [Fact]
    public void OnePassStep_ReportedLayer_HoldsItsFinalGradients()
    {
        using var model = new ScaleModel(Config, 21);
        using var batch = new TestInputs(Config, rows: 4, seed: 22);
        using var optimizer = new AdamWOptimizer(model.NamedParameters(), new AdamWOptions());
        var check = new ReadinessCheck(model, optimizer.Flat);

        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            using var g = new Generator(23 + (ulong)step);
            using var plan = ScaleMaskPlan.Create(Config, batch.Inputs, batch.Inputs.EffectivePresence(Config), g, Config.Weight);
            check.Arm();
            using (var output = ScalePass.Run(model, batch.Inputs, plan, ModelCollectives.Single, Config.Weight))
                output.Total!.backward();
            check.AssertReportedLayersFinal($"step {step}");
            optimizer.Step(1e-3);
        }
    }
}
