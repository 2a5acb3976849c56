namespace CommerceMM.Observability.Metrics;

/// <summary>
/// Histogram bucket bounds in seconds. Given as instrument advice, so they travel with the
/// instrument; OpenTelemetry's default bounds (0 to 10,000) assume milliseconds.
/// </summary>
internal static class Buckets
{
    /// <summary>A tiny CPU step is tens of milliseconds; a paper-scale step on CPU is minutes.</summary>
    public static readonly IReadOnlyList<double> Step =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    /// <summary>Data wait and all-reduce: sub-millisecond when healthy, seconds when stalled.</summary>
    public static readonly IReadOnlyList<double> StepPhase =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>Checkpoint saves: a fraction of a second locally, minutes to a remote blob store.</summary>
    public static readonly IReadOnlyList<double> CheckpointSave =
        [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
}
