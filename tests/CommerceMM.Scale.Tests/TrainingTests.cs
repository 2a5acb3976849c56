using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Losses;
using CommerceMM.Scale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

public class TrainingTests
{
    private static readonly ScaleConfig Config = TestInputs.Small;

    [Fact]
    public void Overfit_FixedBatchAndPlan_EveryLossFallsByHalf()
    {
        using var model = new ScaleModel(Config, 11);
        using var batch = new TestInputs(Config, rows: 6, seed: 12);
        using var g = new Generator(13);
        using var plan = ScaleMaskPlan.Create(Config, batch.Inputs, batch.Inputs.EffectivePresence(Config), g, Config.Weight);
        using var optimizer = new AdamWOptimizer(model.NamedParameters(), new AdamWOptions { WeightDecay = 0 });
        Dictionary<string, double>? first = null, last = null;
        for (int step = 0; step < 60; step++)
        {
            using var output = ScalePass.Run(model, batch.Inputs, plan, ModelCollectives.Single, Config.Weight);
            var losses = output.Results.ToDictionary(r => r.Task, r => r.Loss);
            first ??= losses;
            last = losses;
            optimizer.ZeroGrad();
            output.Total!.backward();
            optimizer.Step(3e-3);
        }
        foreach (var (task, before) in first!)
            Assert.True(last![task] < before / 2, $"{task}: {before:F4} → {last[task]:F4}");
    }

    [Fact]
    public void TrainerStep_EmptyBatch_EveryTaskAbsentNothingUpdated()
    {
        // A rank whose whole share was skipped by the loader still takes part in the step.
        using var model = new ScaleModel(Config, 16);
        using var batch = new TestInputs(Config, rows: 2, seed: 17);
        using var none = zeros(0, ScalarType.Int64, device: CPU);
        var empty = batch.Inputs.SelectRows(none);
        using var trainer = new ScaleTrainer(model, new TrainerOptions { Schedule = new WarmupCosineSchedule(1e-3, 0, 10) });
        var before = Scalars.ToArray<float>(model.NamedParameters().First().Tensor);

        var result = trainer.Step(empty, 0);

        Assert.All(result.Tasks, t => Assert.Equal(TaskOutcome.Absent, t.Status));
        Assert.Equal(before, Scalars.ToArray<float>(model.NamedParameters().First().Tensor));
    }

    [Fact]
    public void TrainerStep_MissingModalities_FiniteAndReportsEverything()
    {
        var present = TestInputs.All(4);
        present[0, (int)ScaleModality.Audio] = false;
        present[2, (int)ScaleModality.Video] = false;
        using var model = new ScaleModel(Config, 14);
        using var batch = new TestInputs(Config, rows: 4, seed: 15, present);
        using var trainer = new ScaleTrainer(model, new TrainerOptions { Schedule = new WarmupCosineSchedule(1e-3, 0, 10) });
        var results = Enumerable.Range(0, 3).Select(s => trainer.Step(batch.Inputs, s)).ToList();
        Assert.All(results, r =>
        {
            Assert.False(r.Skipped);
            Assert.True(double.IsFinite(r.Loss) && double.IsFinite(r.GradNorm));
            Assert.Equal(15, r.Tasks.Count);
            Assert.All(r.Tasks, t => Assert.Equal(TaskOutcome.Ok, t.Status));
            Assert.Equal(5, r.Weights.Count);
        });
    }
}
