namespace CommerceMM.Data.Loading;

/// <summary>How a rank reads one stream. Everything except Rank, WorldSize, Prefetch and Workers must match across ranks.</summary>
public sealed class LoaderOptions
{
    public const int DefaultCanonicalPartitions = 64;
    public const int DefaultMaxTextBytes = 4096;

    /// <summary>The data set folder (holding dataset.json). Required.</summary>
    public string DatasetDirectory { get; set; } = "";

    /// <summary>Stream name ("pairs", "omni", "eval_pairs", "eval_omni").</summary>
    public string Stream { get; set; } = Format.StreamNames.Pairs;

    /// <summary>Samples per rank per step.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Token ids per text including [CLS] and [SEP]; longer texts are truncated.</summary>
    public int TextLength { get; set; } = 24;

    /// <summary>Token ids per attribute table including [CLS] and [SEP] (product streams only).</summary>
    public int TableLength { get; set; } = 48;

    /// <summary>
    /// Modalities the consumer uses (product streams only; null = all stored). A product with none of
    /// them is skipped and counted, never handed to the model.
    /// </summary>
    public IReadOnlyList<string>? Modalities { get; set; }

    public ulong Seed { get; set; }

    /// <summary>
    /// Pieces the epoch order is built from (see <see cref="EpochOrder"/>). Part of the order itself, so
    /// fixed for a job's lifetime; world sizes are free to change.
    /// </summary>
    /// <value>64.</value>
    public int CanonicalPartitions { get; set; } = DefaultCanonicalPartitions;

    public int Rank { get; set; }
    public int WorldSize { get; set; } = 1;

    /// <summary>Batches prepared ahead of the consumer (bounded channel capacity).</summary>
    /// <value>4.</value>
    public int Prefetch { get; set; } = 4;

    /// <summary>Batches decoded at once on background threads.</summary>
    /// <value>1: the trainer owns the other cores.</value>
    public int Workers { get; set; } = 1;

    /// <summary>A text longer than this (UTF-8 bytes) is a bad sample, skipped and counted.</summary>
    public int MaxTextBytes { get; set; } = DefaultMaxTextBytes;

    /// <summary>Check each shard's size and SHA-256 when it is first opened.</summary>
    public bool VerifyChecksums { get; set; } = true;

    /// <summary>Where to start; null for epoch 0 from the beginning. May come from any world size.</summary>
    public LoaderPosition? Resume { get; set; }

    /// <exception cref="ArgumentException">Names the first bad option.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DatasetDirectory)) throw new ArgumentException($"{nameof(DatasetDirectory)} is required");
        if (BatchSize < 1) throw new ArgumentException($"{nameof(BatchSize)} must be at least 1, got {BatchSize}");
        if (TextLength < 3) throw new ArgumentException($"{nameof(TextLength)} must be at least 3 ([CLS], one token, [SEP]), got {TextLength}");
        if (TableLength < 3) throw new ArgumentException($"{nameof(TableLength)} must be at least 3 ([CLS], one token, [SEP]), got {TableLength}");
        if (Modalities is { Count: 0 }) throw new ArgumentException($"{nameof(Modalities)} must name at least one modality");
        if (Modalities?.FirstOrDefault(m => !Format.Modality.Known.Contains(m)) is { } unknown)
            throw new ArgumentException($"{nameof(Modalities)}: unknown modality '{unknown}' (known: {string.Join(", ", Format.Modality.Known)})");
        if (CanonicalPartitions < 1) throw new ArgumentException($"{nameof(CanonicalPartitions)} must be at least 1, got {CanonicalPartitions}");
        if (WorldSize < 1) throw new ArgumentException($"{nameof(WorldSize)} must be at least 1, got {WorldSize}");
        if (Rank < 0 || Rank >= WorldSize) throw new ArgumentException($"{nameof(Rank)} must be in 0..{WorldSize - 1}, got {Rank}");
        if (Prefetch < 1) throw new ArgumentException($"{nameof(Prefetch)} must be at least 1, got {Prefetch}");
        if (Workers < 1) throw new ArgumentException($"{nameof(Workers)} must be at least 1, got {Workers}");
        if (MaxTextBytes < 1) throw new ArgumentException($"{nameof(MaxTextBytes)} must be at least 1, got {MaxTextBytes}");
    }
}
