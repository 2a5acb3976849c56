using System.Diagnostics;
using CommerceMM.Collectives;
using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>
/// The CommerceMM step (MODEL.md §5): pass 1 → backward (no all-reduce) → pass 2 → backward, which
/// starts the bucketed gradient all-reduce layer by layer → clip → AdamW → MIM teacher and centre updates. The learning
/// rate is a pure function of the step, so a restored run continues the schedule exactly.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly CommerceMMModel _model;
    private readonly TrainerOptions _options;
    private readonly ModelCollectives _collectives;
    private readonly DistributedOptimizer _optimizer;

    public Trainer(CommerceMMModel model, TrainerOptions options, ProcessGroup? group = null)
    {
        _model = model;
        _options = options;
        _collectives = new ModelCollectives(group);
        _optimizer = new DistributedOptimizer(model, model.TrainableParameters(), options, group);
    }

    public AdamWOptimizer Optimizer => _optimizer.Optimizer;

    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    public long SkippedSteps { get => _optimizer.SkippedSteps; set => _optimizer.SkippedSteps = value; }

    /// <summary>Gradient buckets of the last step sent while pass 2's backward was still running (0 without overlap).</summary>
    public int BucketsSentDuringBackward => _optimizer.BucketsSentDuringBackward;

    /// <summary>Gradient buckets per step (0 in a single process).</summary>
    public int BucketCount => _optimizer.BucketCount;

    public double Weight(string task) => _model.Config.Weight(task);

    public StepResult Step(PairInputs pairs, OmniInputs omni, long step)
    {
        var config = _model.Config;
        var allocation = StepRandom.Allocation(config.EffectiveAllocations, _options.Seed, step);
        using var generator = StepRandom.For(_options.Seed, step, _collectives.Rank);
        _optimizer.ZeroGrad();
        var clock = Stopwatch.StartNew();

        using var plan = Pass1Plan.Create(config, pairs, generator);
        using var pass1 = Pass1.Run(_model, pairs, plan, allocation, _collectives, generator, Weight);
        pass1.Backward();   // no gradient all-reduce yet: pass 2 accumulates into the same gradients
        double pass1Seconds = clock.Elapsed.TotalSeconds;

        _optimizer.StartLastPass();   // pass 2's backward sends each layer's gradients as it finishes them
        using var pass2 = Pass2.Run(_model, omni, allocation, _collectives, Weight);
        pass2.Backward();
        double pass2Seconds = clock.Elapsed.TotalSeconds - pass1Seconds;

        var tasks = pass1.Results.Concat(pass2.Results).ToList();
        double loss1 = pass1.Total is { } t1 ? Scalars.ToDouble(t1) : 0, loss2 = pass2.Total is { } t2 ? Scalars.ToDouble(t2) : 0;
        var outcome = _optimizer.Apply(double.IsFinite(loss1) && double.IsFinite(loss2), step);
        double teacherSeconds = 0;
        if (!outcome.Skipped)
        {
            double before = clock.Elapsed.TotalSeconds;
            _model.Teacher.Update(_model, config.Mim.TeacherMomentum);
            if (pass1.CenterEstimate is { } estimate) UpdateCenter(estimate.Sum, estimate.Count);
            teacherSeconds = clock.Elapsed.TotalSeconds - before;
        }
        return new StepResult(step, allocation, tasks, loss1, loss2, outcome.GradNorm, outcome.LearningRate, outcome.Skipped,
            new StepTimings(pass1Seconds, pass2Seconds, outcome.AllReduceSeconds, outcome.OptimizerSeconds + teacherSeconds));
    }

    /// <summary>centre ← m·centre + (1 − m)·(mean teacher scores over every rank's patch tokens); only in steps where mim_kl ran.</summary>
    private void UpdateCenter(Tensor sum, long count)
    {
        using var noGrad = torch.no_grad();
        _collectives.Sum(sum);
        long total = _collectives.SumCounts([count])[0];
        if (total == 0) return;
        using var batchCenter = sum.Div(total);
        Ema.LerpInPlace(_model.MimCenter, batchCenter, 1 - _model.Config.Mim.CenterMomentum);
    }

    public void Dispose() => _optimizer.Dispose();
}
