namespace CommerceMM.Model.Debugging;

/// <summary>What `cmm debug dump-step` builds before it records a step.</summary>
public sealed record StepDumpOptions
{
    /// <value>Rows of the synthetic pass-1 and pass-2 batches. Default 8.</value>
    public int Rows { get; init; } = 8;

    /// <value>Seeds the model's weights, the batch and the step's random choices. Default 1.</value>
    public ulong Seed { get; init; } = 1;

    /// <value>
    /// Full training steps taken before the dumped one. Default 0. With a fresh model the MIM teacher
    /// equals the student and the mim_kl centre is zero, so a reference that read the wrong one would
    /// still agree; a few warm-up steps make both distinguishable.
    /// </value>
    public int WarmupSteps { get; init; }

    /// <value>Peak learning rate of the warm-up steps. Default 1e-3.</value>
    public double WarmupLearningRate { get; init; } = 1e-3;

    public void Validate()
    {
        if (Rows < 1) throw new ArgumentOutOfRangeException(nameof(Rows), Rows, "--rows must be at least 1");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "--warmup-steps must be >= 0");
        if (!(WarmupLearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(WarmupLearningRate), WarmupLearningRate, "must be > 0");
    }
}
