using CommerceMM.Coordinator.Hosting;

namespace CommerceMM.Coordinator.Grains.Membership;

/// <summary>
/// The heartbeat timeout as a pure function of observed step times. A fixed timeout must cover the slowest
/// legitimate step, so it ends up at torch's 30 minutes; deriving it from the p95 step time notices a dead rank in a
/// few steps' time instead, while the floor keeps fast steps from turning jitter into evictions.
/// </summary>
internal static class HeartbeatTimeoutPolicy
{
    /// <summary>The 95th percentile (nearest rank) of <paramref name="samples"/>; null when empty.</summary>
    public static double? P95(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0)
        {
            return null;
        }

        double[] sorted = samples.Order().ToArray();
        int index = (int)Math.Ceiling(0.95 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    /// <summary>Timeout for a rank that has heartbeated in this generation; <see cref="LivenessOptions.StartupTimeout"/> until steps were seen.</summary>
    public static TimeSpan Steady(LivenessOptions options, IReadOnlyCollection<double> stepSeconds)
    {
        if (P95(stepSeconds) is not { } p95)
        {
            return options.StartupTimeout;
        }

        // The interval is added because a heartbeat may be sent up to one interval after the step it reports ended.
        TimeSpan derived = TimeSpan.FromSeconds(options.StepTimeFactor * p95) + options.HeartbeatInterval;
        return derived > options.TimeoutFloor ? derived : options.TimeoutFloor;
    }

    /// <summary>Steps ahead of the furthest rank to place a checkpoint order: enough for every rank to hear it within one heartbeat interval.</summary>
    public static int CheckpointLead(LivenessOptions options, IReadOnlyCollection<double> stepSeconds)
    {
        if (P95(stepSeconds) is not { } p95 || p95 <= 0)
        {
            return options.MinCheckpointLeadSteps;
        }

        double steps = Math.Ceiling(options.HeartbeatInterval.TotalSeconds / p95) + 1;
        return (int)Math.Clamp(steps, options.MinCheckpointLeadSteps, 1_000_000);
    }
}
