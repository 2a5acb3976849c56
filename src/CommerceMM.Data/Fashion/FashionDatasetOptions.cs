namespace CommerceMM.Data.Fashion;

/// <summary>What <see cref="FashionDatasetBuilder"/> builds. Defaults build the whole corpus.</summary>
public sealed class FashionDatasetOptions
{
    public const int DefaultVocabSize = 4000;
    public const int DefaultSamplesPerShard = 4096;
    public const int DefaultJpegQuality = 95;
    public const ulong DefaultSeed = 20220207; // CommerceMM's arXiv date; any constant works

    /// <summary>The data set folder to create. Required.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>Where the Fashion-MNIST IDX files are.</summary>
    /// <value>The Debian package's folder, /usr/share/datasets/fashion-mnist.</value>
    public string SourceDirectory { get; set; } = FashionMnistReader.DefaultDirectory;

    /// <summary>At most this many training photos become products (--limit); null for all 60,000.</summary>
    public int? TrainLimit { get; set; }

    /// <summary>At most this many test photos become the held-out split; null for all 10,000.</summary>
    public int? EvalLimit { get; set; }

    /// <summary>Seeds every random choice of the build (text variants, languages, augmentations, tokenizer).</summary>
    public ulong Seed { get; set; } = DefaultSeed;

    /// <summary>Target SentencePiece vocabulary (a soft limit: a small corpus gets fewer pieces).</summary>
    /// <value>4000.</value>
    public int VocabSize { get; set; } = DefaultVocabSize;

    /// <summary>Samples per tar shard.</summary>
    /// <value>4096 (≈ 2-6 MB per shard here).</value>
    public int SamplesPerShard { get; set; } = DefaultSamplesPerShard;

    /// <summary>JPEG quality 1..100.</summary>
    /// <value>95: at 28×28 the files stay ~0.6 KB and decoding stays within a grey level or two.</value>
    public int JpegQuality { get; set; } = DefaultJpegQuality;

    /// <summary>Threads that derive products and encode JPEGs; the output does not depend on it.</summary>
    public int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>Replace a finished data set built with other options; without it that is an error.</summary>
    public bool Overwrite { get; set; }

    /// <summary>Checks every option and names the first bad one.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException($"{nameof(OutputDirectory)} is required");
        if (string.IsNullOrWhiteSpace(SourceDirectory)) throw new ArgumentException($"{nameof(SourceDirectory)} is required");
        if (TrainLimit is < 1) throw new ArgumentException($"{nameof(TrainLimit)} must be at least 1, got {TrainLimit}");
        if (EvalLimit is < 1) throw new ArgumentException($"{nameof(EvalLimit)} must be at least 1, got {EvalLimit}");
        if (VocabSize is < 64 or > 1_000_000) throw new ArgumentException($"{nameof(VocabSize)} must be in 64..1000000, got {VocabSize}");
        if (SamplesPerShard < 1) throw new ArgumentException($"{nameof(SamplesPerShard)} must be at least 1, got {SamplesPerShard}");
        if (JpegQuality is < 1 or > 100) throw new ArgumentException($"{nameof(JpegQuality)} must be in 1..100, got {JpegQuality}");
        if (Workers < 1) throw new ArgumentException($"{nameof(Workers)} must be at least 1, got {Workers}");
    }
}

/// <summary>Where a build is, for a progress bar: <see cref="Completed"/> of <see cref="Total"/> in <see cref="Stage"/>.</summary>
public sealed record BuildProgress(BuildStage Stage, long Completed, long Total, string Message);

public enum BuildStage
{
    /// <summary>Another builder holds the folder (<see cref="BuildProgress.Message"/> says which); this one waits for it.</summary>
    Waiting,
    Reading,
    Train,
    Eval,
    Tokenizer,
    Manifest,
    Done,
}

/// <summary>The outcome of a build.</summary>
/// <param name="UpToDate">True when a finished data set with the same inputs was already there (nothing was written).</param>
public sealed record BuildResult(string Directory, Format.DatasetManifest Manifest, bool UpToDate, TimeSpan Elapsed, long Bytes);
