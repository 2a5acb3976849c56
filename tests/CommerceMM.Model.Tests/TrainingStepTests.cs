using CommerceMM.Model.Debugging;
using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests;

public class TrainingStepTests
{
    private static readonly CommerceMMConfig Tiny = CommerceMMConfig.Tiny() with { Mim = new MimConfig { Prototypes = 32 } };

    /// <summary>Gradients of both passes for the given task weights, accumulated, by parameter name.</summary>
    private static Dictionary<string, double[]> Gradients(CommerceMMModel model, SyntheticBatch batches, Func<string, double> weight)
    {
        model.zero_grad();
        using (var g = new Generator(77))
        using (var plan = Pass1Plan.Create(model.Config, batches.Pairs, g))
        using (var pass1 = Pass1.Run(model, batches.Pairs, plan, model.Config.FullDepth, ModelCollectives.Single, g, weight))
            pass1.Backward();
        using (var pass2 = Pass2.Run(model, batches.Omni, model.Config.FullDepth, ModelCollectives.Single, weight))
            pass2.Backward();
        var result = new Dictionary<string, double[]>();
        foreach (var (name, p) in model.TrainableParameters())
        {
            using var grad = p.grad;
            using var g64 = grad?.to(ScalarType.Float64);
            result[name] = g64 is null ? new double[p.numel()] : Scalars.ToArray<double>(g64);
        }
        model.zero_grad();
        return result;
    }

    [Fact]
    public void TwoPassGradient_EqualsSumOfFourteenSingleTaskBackwards()
    {
        var config = Tiny with { TaskWeights = TaskIds.All.Select((t, i) => (t, 0.5 + 0.1 * i)).ToDictionary() };
        using var model = new CommerceMMModel(config, 1);
        using var batches = new SyntheticBatch(config, rows: 6, seed: 11);

        var twoPass = Gradients(model, batches, config.Weight);
        var summed = twoPass.ToDictionary(kv => kv.Key, kv => new double[kv.Value.Length]);
        foreach (string task in TaskIds.All)
        {
            var single = Gradients(model, batches, t => t == task ? config.Weight(t) : 0);
            foreach (var (name, g) in single)
                for (int i = 0; i < g.Length; i++) summed[name][i] += g[i];
        }
        foreach (var (name, expected) in summed)
        {
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(twoPass[name][i] - expected[i]) <= 1e-5 * Math.Abs(expected[i]) + 1e-6 * scale,
                    $"{name}[{i}]: two-pass {twoPass[name][i]:R} vs summed single-task {expected[i]:R}");
        }
    }

    [Fact]
    public void Overfit_FixedBatch_EveryLossFallsByHalf()
    {
        using var model = new CommerceMMModel(Tiny, 1);
        using var batches = new SyntheticBatch(Tiny, rows: 8, seed: 12);
        var options = new TrainerOptions { Schedule = new(PeakLearningRate: 2e-3, WarmupSteps: 5, TotalSteps: 1000), AdamW = new() { WeightDecay = 0 } };
        using var trainer = new Trainer(model, options);
        var first = trainer.Step(batches.Pairs, batches.Omni, 0).Tasks.ToDictionary(t => t.Task, t => t.Loss);
        var best = first.ToDictionary(kv => kv.Key, kv => kv.Value);
        for (int step = 1; step < 150; step++)
            foreach (var t in trainer.Step(batches.Pairs, batches.Omni, step).Tasks)
                best[t.Task] = Math.Min(best[t.Task], t.Loss);
        foreach (var task in TaskIds.All)
            Assert.True(best[task] <= first[task] / 2, $"{task}: first {first[task]:F4}, best {best[task]:F4}");
    }

    [Fact]
    public void Step_NonFiniteLoss_IsSkippedCountedAndChangesNothing()
    {
        using var model = new CommerceMMModel(Tiny, 1);
        using var batches = new SyntheticBatch(Tiny, rows: 4, seed: 13);
        using (torch.no_grad()) batches.Pairs.Images.select(0, 1).fill_(double.NaN);
        using var trainer = new Trainer(model, new TrainerOptions());
        var before = model.StateDict().Select(e => e.Tensor.clone()).ToList();
        var result = trainer.Step(batches.Pairs, batches.Omni, 0);
        Assert.True(result.Skipped);
        Assert.Equal(1, trainer.SkippedSteps);
        Assert.Equal(0, trainer.Optimizer.StepCount);
        var after = model.StateDict();
        for (int i = 0; i < before.Count; i++)
        {
            using var b = before[i];
            Assert.Equal(Scalars.ToArray<double>(b.to(ScalarType.Float64)), Scalars.ToArray<double>(after[i].Tensor.to(ScalarType.Float64)));
        }
    }

    [Fact]
    public void Step_ReportsAllFourteenTasksWithWeights()
    {
        var config = Tiny with { TaskWeights = new Dictionary<string, double> { ["omni_v2t"] = 0, ["itm"] = 2.5 } };
        using var model = new CommerceMMModel(config, 1);
        using var batches = new SyntheticBatch(config, rows: 6, seed: 14);
        using var trainer = new Trainer(model, new TrainerOptions());
        var result = trainer.Step(batches.Pairs, batches.Omni, 0);
        Assert.Equal(TaskIds.All, result.Tasks.Select(t => t.Task));
        Assert.Equal(TaskOutcome.Disabled, result.Tasks.Single(t => t.Task == "omni_v2t").Status);
        Assert.Equal(2.5, result.Tasks.Single(t => t.Task == "itm").Weight);
        double pass1 = result.Tasks.Where(t => TaskIds.Pass1.Contains(t.Task)).Sum(t => t.Weight * t.Loss);
        Assert.Equal(pass1, result.Pass1Loss, 4);
        Assert.True(double.IsFinite(result.GradNorm));
    }

    [Fact]
    public void Step_EmptyBatch_AllTasksAbsentAndNothingThrows()
    {
        // A rank's last batch of an epoch may be empty (the loader keeps ranks in lock-step).
        using var model = new CommerceMMModel(Tiny, 1);
        using var full = new SyntheticBatch(Tiny, rows: 3, seed: 15);
        using var scope = torch.NewDisposeScope();
        PairInputs pairs = new(full.Pairs.Images.narrow(0, 0, 0), full.Pairs.TokenIds.narrow(0, 0, 0), full.Pairs.Padding.narrow(0, 0, 0));
        var o = full.Omni;
        OmniInputs omni = new(o.SourceHasText.narrow(0, 0, 0), o.SourceHasImage.narrow(0, 0, 0), o.SourceImages.narrow(0, 0, 0),
            o.SourceTokenIds.narrow(0, 0, 0), o.SourcePadding.narrow(0, 0, 0), o.TargetImages.narrow(0, 0, 0), o.TargetTokenIds.narrow(0, 0, 0), o.TargetPadding.narrow(0, 0, 0));
        using var trainer = new Trainer(model, new TrainerOptions());
        var result = trainer.Step(pairs, omni, 0);
        Assert.False(result.Skipped);
        Assert.All(result.Tasks, t => Assert.Equal(TaskOutcome.Absent, t.Status));
    }
}
