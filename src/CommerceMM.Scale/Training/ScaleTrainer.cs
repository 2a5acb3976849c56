using System.Diagnostics;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Losses;
using CommerceMM.Torch;
using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.Optim;

namespace CommerceMM.Scale.Training;

/// <summary>What a SCALE step reports: the 15 tasks, the 5 mean harmonized weights, the total, the optimizer's figures.</summary>
public sealed record ScaleStepResult(
    long Step,
    IReadOnlyList<TaskResult> Tasks,
    IReadOnlyList<HarmonizedWeight> Weights,
    double Loss,
    double GradNorm,
    double LearningRate,
    bool Skipped,
    double Seconds,
    double AllReduceSeconds);

/// <summary>
/// The SCALE step: mask plan (a pure function of seed, step and rank) → one forward → one backward →
/// CommerceMM's <see cref="DistributedOptimizer"/> (non-finite vote, bucketed all-reduce, clip, AdamW).
/// </summary>
public sealed class ScaleTrainer : IDisposable
{
    private readonly ScaleModel _model;
    private readonly TrainerOptions _options;
    private readonly Collectives _collectives;
    private readonly DistributedOptimizer _optimizer;

    public ScaleTrainer(ScaleModel model, TrainerOptions options, ProcessGroup? group = null)
    {
        _model = model;
        _options = options;
        _collectives = new Collectives(group);
        _optimizer = new DistributedOptimizer(model.NamedParameters().ToList(), options, _collectives, group);
    }

    public AdamW Optimizer => _optimizer.Optimizer;

    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    public long SkippedSteps { get => _optimizer.SkippedSteps; set => _optimizer.SkippedSteps = value; }

    /// <exception cref="ArgumentException">The batch has a row without any enabled modality, or a bad shape (named).</exception>
    public ScaleStepResult Step(ScaleInputs inputs, long step)
    {
        var clock = Stopwatch.StartNew();
        var config = _model.Config;
        using var generator = StepRandom.For(_options.Seed, step, _collectives.Rank);
        _optimizer.ZeroGrad();
        using var plan = ScaleMaskPlan.Create(config, inputs, inputs.EffectivePresence(config), generator, config.Weight);
        using var output = ScalePass.Run(_model, inputs, plan, _collectives, config.Weight);
        if (output.Total is { RequiresGrad: true } total) total.Backward();
        double loss = output.Total?.Item() ?? 0;
        var outcome = _optimizer.Apply(double.IsFinite(loss), step);
        return new ScaleStepResult(step, output.Results, output.Weights, loss, outcome.GradNorm, outcome.LearningRate, outcome.Skipped,
            clock.Elapsed.TotalSeconds, outcome.AllReduceSeconds);
    }

    public void Dispose() => _optimizer.Dispose();
}
