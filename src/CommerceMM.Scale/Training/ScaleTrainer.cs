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
    double Seconds);

/// <summary>
/// The SCALE step: mask plan (a pure function of seed, step and rank) → one forward → one backward →
/// bucketed gradient all-reduce → clip → AdamW. A non-finite loss or gradient on any rank skips the
/// step on every rank, as CommerceMM's trainer does. Reuses CommerceMM's <see cref="TrainerOptions"/>.
/// </summary>
public sealed class ScaleTrainer : IDisposable
{
    private readonly ScaleModel _model;
    private readonly TrainerOptions _options;
    private readonly Collectives _collectives;
    private readonly GradientBucketer? _bucketer;
    private readonly IReadOnlyList<Tensor> _parameters;

    public ScaleTrainer(ScaleModel model, TrainerOptions options, ProcessGroup? group = null)
    {
        options.Schedule.Validate();
        _model = model;
        _options = options;
        _collectives = new Collectives(group);
        var named = model.NamedParameters().ToList();
        _parameters = named.Select(p => p.Tensor).ToList();
        Optimizer = new AdamW(named, options.AdamW);
        if (group is not null) _bucketer = new GradientBucketer(group, _parameters, options.BucketBytes);
    }

    public AdamW Optimizer { get; }

    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    public long SkippedSteps { get; set; }

    /// <exception cref="ArgumentException">The batch has a row without any enabled modality, or a bad shape (named).</exception>
    public ScaleStepResult Step(ScaleInputs inputs, long step)
    {
        var clock = Stopwatch.StartNew();
        var config = _model.Config;
        using var generator = StepRandom.For(_options.Seed, step, _collectives.Rank);
        Optimizer.ZeroGrad();
        using var plan = ScaleMaskPlan.Create(config, inputs, inputs.EffectivePresence(config), generator, config.Weight);
        using var output = ScalePass.Run(_model, inputs, plan, _collectives, config.Weight);
        output.Total?.Backward();
        double loss = output.Total?.Item() ?? 0, lr = _options.Schedule.LearningRate(step), gradNorm = double.NaN;
        // Every rank must take the same branch, or the next collective would pair with the wrong peer.
        bool nonFinite = _collectives.Any(!double.IsFinite(loss));
        if (!nonFinite)
        {
            _bucketer?.AllReduceAverage();
            gradNorm = GradientClipping.ClipGlobalNorm(_parameters, _options.MaxGradNorm);
            nonFinite = !double.IsFinite(gradNorm);
        }
        if (nonFinite)
        {
            Optimizer.ZeroGrad();
            SkippedSteps++;
        }
        else
        {
            Optimizer.Step(lr);
            Optimizer.ZeroGrad();
        }
        return new ScaleStepResult(step, output.Results, output.Weights, loss, gradNorm, lr, nonFinite, clock.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        _bucketer?.Dispose();
    }
}
