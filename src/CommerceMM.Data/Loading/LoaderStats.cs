namespace CommerceMM.Data.Loading;

/// <summary>Why a sample was skipped. Bad samples are never fatal; they are counted here.</summary>
public enum SkipReason
{
    UnreadableRecord,
    UndecodableImage,
    WrongImageSize,
    EmptyText,
    InvalidText,
    OversizeText,
    MissingModality,
    BadMetadata,
    /// <summary>A product has none of the modalities the model uses (SCALE streams).</summary>
    NoUsableModality,
    /// <summary>Audio or video longer or shorter than the data set's configured range (SCALE streams).</summary>
    LengthOutOfRange,
}

/// <summary>Counters of one loader; safe to read while it runs.</summary>
public sealed class LoaderStats
{
    private readonly long[] _skipped = new long[Enum.GetValues<SkipReason>().Length];
    private long _samples;
    private long _batches;
    private long _waitTicks;

    /// <summary>Samples delivered in batches.</summary>
    public long Samples => Interlocked.Read(ref _samples);
    public long Batches => Interlocked.Read(ref _batches);
    public long Skipped
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _skipped.Length; i++) total += Interlocked.Read(ref _skipped[i]);
            return total;
        }
    }
    public long SkippedFor(SkipReason reason) => Interlocked.Read(ref _skipped[(int)reason]);

    /// <summary>Total time the consumer waited for a batch: the figure behind cmm_data_wait_seconds.</summary>
    public TimeSpan DataWait => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    /// <summary>The wait of the most recent batch.</summary>
    public TimeSpan LastWait { get; private set; }

    internal void Delivered(int samples, IReadOnlyList<SkipReason> skipped, TimeSpan wait)
    {
        foreach (var reason in skipped) Interlocked.Increment(ref _skipped[(int)reason]);
        Interlocked.Add(ref _samples, samples);
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _waitTicks, wait.Ticks);
        LastWait = wait;
    }
}
