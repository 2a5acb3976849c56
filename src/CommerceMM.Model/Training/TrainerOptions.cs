namespace CommerceMM.Model.Training;

/// <summary>Optimisation settings of a training run; defaults suit the tiny preset.</summary>
public sealed record TrainerOptions
{
    /// <value>Seeds masks, negatives and allocations (with the step and rank). Default 1.</value>
    public ulong Seed { get; init; } = 1;
    public WarmupCosineSchedule Schedule { get; init; } = new(PeakLearningRate: 1e-3, WarmupSteps: 100, TotalSteps: 10_000, MinLearningRate: 1e-5);
    public AdamWOptions AdamW { get; init; } = new() { WeightDecay = 0.05 };
    /// <value>Global gradient-norm clip. Default 1.0.</value>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <value>Gradient all-reduce bucket size. Default 25 MiB, as DDP.</value>
    public long BucketBytes { get; init; } = 25L << 20;
    /// <value>
    /// Send each bucket during the step's last backward pass, as soon as its encoder layers are done (default),
    /// instead of after it. False only for `cmm bench overlap`'s reference run, which measures what overlap hides.
    /// </value>
    public bool OverlapAllReduce { get; init; } = true;
}
