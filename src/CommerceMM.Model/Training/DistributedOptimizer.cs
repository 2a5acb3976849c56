using System.Diagnostics;
using CommerceMM.Collectives;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>How the optimizer half of a step went.</summary>
public readonly record struct OptimizerOutcome(bool Skipped, double GradNorm, double LearningRate, double AllReduceSeconds, double OptimizerSeconds);

/// <summary>
/// The half of a training step every model shares, after its backward passes: the non-finite vote,
/// one bucketed gradient all-reduce, global-norm clipping, AdamW at the scheduled rate. The rate is a
/// pure function of the step, so a restored run continues the schedule exactly.
/// </summary>
public sealed class DistributedOptimizer : IDisposable
{
    private readonly TrainerOptions _options;
    private readonly ModelCollectives _collectives;
    private readonly GradientBucketer? _bucketer;

    public DistributedOptimizer(IReadOnlyList<(string Name, Tensor Tensor)> trainable, TrainerOptions options, ModelCollectives collectives, ProcessGroup? group)
    {
        options.Schedule.Validate();
        _options = options;
        _collectives = collectives;
        Optimizer = new AdamWOptimizer(trainable, options.AdamW);
        if (group is not null) _bucketer = new GradientBucketer(group, Optimizer.Flat, options.BucketBytes);
    }

    public AdamWOptimizer Optimizer { get; }

    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    public long SkippedSteps { get; set; }

    public void ZeroGrad() => Optimizer.ZeroGrad();

    /// <summary>
    /// Averages, clips and applies this step's gradients, or (when any rank's loss or the global
    /// gradient is non-finite) drops them and counts the step as skipped. Collective: every rank calls it.
    /// </summary>
    public OptimizerOutcome Apply(bool lossFinite, long step)
    {
        var clock = Stopwatch.StartNew();
        double lr = _options.Schedule.LearningRate(step), gradNorm = double.NaN, allReduce = 0;
        // Every rank must take the same branch, or the next collective would pair with the wrong peer.
        bool skip = _collectives.Any(!lossFinite);
        if (!skip)
        {
            _bucketer?.AllReduceAverage();
            allReduce = clock.Elapsed.TotalSeconds;
            // After the all-reduce every rank holds the same gradients, so the same norm: no vote needed.
            gradNorm = GradientClipping.ClipGlobalNorm(Optimizer.Flat, _options.MaxGradNorm);
            skip = !double.IsFinite(gradNorm);
        }
        if (skip)
        {
            Optimizer.ZeroGrad();
            SkippedSteps++;
            return new OptimizerOutcome(true, gradNorm, lr, allReduce, 0);
        }
        double before = clock.Elapsed.TotalSeconds;
        Optimizer.Step(lr);
        Optimizer.ZeroGrad();
        return new OptimizerOutcome(false, gradNorm, lr, allReduce, clock.Elapsed.TotalSeconds - before);
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        _bucketer?.Dispose();
    }
}
