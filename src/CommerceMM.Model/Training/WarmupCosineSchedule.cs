namespace CommerceMM.Model.Training;

/// <summary>
/// Linear warmup to the peak rate, then cosine decay to a floor. A pure function of the step, so a
/// resumed run needs only the step number to continue the schedule exactly.
/// </summary>
public sealed record WarmupCosineSchedule(double PeakLearningRate, long WarmupSteps, long TotalSteps, double MinLearningRate = 0)
{
    public double LearningRate(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "must be >= 0");
        if (step < WarmupSteps) return PeakLearningRate * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return MinLearningRate;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return MinLearningRate + 0.5 * (PeakLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * progress));
    }

    public void Validate()
    {
        if (!(PeakLearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(PeakLearningRate), PeakLearningRate, "must be > 0");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "must be >= 0");
        if (TotalSteps < WarmupSteps) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, $"must be >= WarmupSteps ({WarmupSteps})");
        if (MinLearningRate < 0 || MinLearningRate > PeakLearningRate)
            throw new ArgumentOutOfRangeException(nameof(MinLearningRate), MinLearningRate, "must be in [0, PeakLearningRate]");
    }
}
