namespace CommerceMM.Coordinator.Grains.Checkpoints;

/// <summary>Where periodic checkpoints fall: pure, so every rank and every coordinator restart agrees.</summary>
internal static class CheckpointSchedule
{
    /// <summary>
    /// The next multiple of <paramref name="every"/> after <paramref name="lastOrdered"/> that the furthest rank can still
    /// reach with <paramref name="lead"/> steps' notice; null when periodic checkpoints are off.
    /// </summary>
    public static long? NextPeriodic(long every, long lastOrdered, long maxStep, int lead)
    {
        if (every <= 0)
        {
            return null;
        }

        long next = ((lastOrdered / every) + 1) * every;
        long reachable = maxStep + lead;
        long reachableMultiple = ((reachable + every - 1) / every) * every;
        return Math.Max(next, reachableMultiple);
    }
}
