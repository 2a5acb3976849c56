using System.Diagnostics;
using CommerceMM.Collectives;
using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Losses;
using TorchSharp;
using static TorchSharp.torch;

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
/// The SCALE step: mask plan (a pure function of seed, step and rank, or of each sample's seed) → one
/// forward → one backward → CommerceMM's <see cref="DistributedOptimizer"/> (non-finite vote, bucketed
/// all-reduce, clip, AdamW). The batch may come on any device: the step runs on the model's.
/// </summary>
public sealed class ScaleTrainer : IDisposable
{
    private readonly ScaleModel _model;
    private readonly TrainerOptions _options;
    private readonly ModelCollectives _collectives;
    private readonly DistributedOptimizer _optimizer;

    public ScaleTrainer(ScaleModel model, TrainerOptions options, ProcessGroup? group = null)
    {
        _model = model;
        _options = options;
        _collectives = new ModelCollectives(group);
        _optimizer = new DistributedOptimizer(model, model.NamedParameters(), options, group);
    }

    public AdamWOptimizer Optimizer => _optimizer.Optimizer;

    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    public long SkippedSteps { get => _optimizer.SkippedSteps; set => _optimizer.SkippedSteps = value; }

    /// <exception cref="ArgumentException">The batch has a row without any enabled modality, or a bad shape (named).</exception>
    public ScaleStepResult Step(ScaleInputs inputs, long step)
    {
        var clock = Stopwatch.StartNew();
        var config = _model.Config;
        using var scope = NewDisposeScope();
        var onDevice = inputs.To(_model.Device);
        using var generator = StepRandom.For(_options.Seed, step, _collectives.Rank);
        _optimizer.ZeroGrad();
        using var plan = ScaleMaskPlan.Create(config, onDevice, onDevice.EffectivePresence(config), generator, config.Weight);
        _optimizer.StartLastPass();
        using var output = ScalePass.Run(_model, onDevice, plan, _collectives, config.Weight);
        // A rank whose share of every task was empty holds a constant loss: nothing to back-propagate.
        if (output.Total is { requires_grad: true } total) total.backward();
        double loss = output.Total is { } t ? Scalars.ToDouble(t) : 0;
        var outcome = _optimizer.Apply(double.IsFinite(loss), step);
        return new ScaleStepResult(step, output.Results, output.Weights, loss, outcome.GradNorm, outcome.LearningRate, outcome.Skipped,
            clock.Elapsed.TotalSeconds, outcome.AllReduceSeconds);
    }

    public void Dispose() => _optimizer.Dispose();
}
