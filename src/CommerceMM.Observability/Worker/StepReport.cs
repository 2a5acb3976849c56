namespace CommerceMM.Observability.Worker;

/// <summary>What one optimizer step reports (ARCHITECTURE.md §3, step 3; MODEL.md §5).</summary>
public sealed record StepReport
{
    /// <summary>The optimizer step just completed.</summary>
    public required long Step { get; init; }

    /// <summary>Wall time of the whole step (data wait included).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Time blocked on the loader before the step could start.</summary>
    public TimeSpan DataWait { get; init; }

    /// <summary>Bytes of a remote data set fetched since the last report (by the loaders, prefetching included).</summary>
    public long DataFetchedBytes { get; init; }

    /// <summary>Time in the gradient all-reduce (including waiting for slower ranks).</summary>
    public TimeSpan AllReduce { get; init; }

    /// <summary>Gradient norm before clipping; null when not computed.</summary>
    public double? GradNorm { get; init; }

    /// <summary>Learning rate applied at this step.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Samples this rank consumed, by stream (<see cref="Metrics.SampleStreams"/>).</summary>
    public IReadOnlyDictionary<string, long>? Samples { get; init; }

    /// <summary>Bad samples the loader left out of this step's batches: (stream, reason in <see cref="Metrics.SkipReasons"/>) → count.</summary>
    public IReadOnlyDictionary<(string Stream, string Reason), long>? SkippedSamples { get; init; }

    /// <summary>Text tokens this rank consumed (both passes).</summary>
    public long Tokens { get; init; }

    /// <summary>
    /// Loss per task id for the tasks that ran ("ok"). Absent and disabled tasks are left out, so their
    /// series keep the last real value instead of reading as a loss of 0 (MODEL.md §4).
    /// </summary>
    public IReadOnlyDictionary<string, double>? TaskLosses { get; init; }

    /// <summary>Weight per task id as applied at this step (0 for a disabled task).</summary>
    public IReadOnlyDictionary<string, double>? TaskWeights { get; init; }

    /// <summary>SCALE: mean harmonized weight per modality present in this step (<see cref="Metrics.Modalities"/>).</summary>
    public IReadOnlyDictionary<string, double>? ModalityWeights { get; init; }
}
