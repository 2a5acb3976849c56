namespace CommerceMM.Observability.Collection;

/// <summary>
/// Keeps one step's figures together: <see cref="Worker.TrainingMetrics.RecordStep"/> records under this lock and
/// <see cref="MetricsPipeline.Collect"/> collects under it, so a scrape showing <c>cmm_step</c> = S shows step S's
/// losses, never a mix of S and S+1 (the SDK reads instruments one at a time, while the step goes on).
/// </summary>
/// <remarks>
/// Process-wide because the recorder and the pipeline are separate objects that know nothing of each other; a worker has
/// one of each. Contention is one collection (well under a millisecond) per scrape interval against one recording per step.
/// </remarks>
internal static class StepConsistency
{
    public static Lock Gate { get; } = new();
}
