using CommerceMM.Data.Fashion;

namespace CommerceMM.Data.Catalog;

/// <summary>What <see cref="CatalogDatasetBuilder"/> builds from a user's catalog.</summary>
public sealed class CatalogDatasetOptions
{
    public const int DefaultImageSize = 224;
    public const int DefaultVocabSize = 8000;
    public const double DefaultEvalShare = 0.05;
    public const double DefaultMaxSkippedShare = 0.05;
    public const int DefaultJpegQuality = 90;
    public const int DefaultSamplesPerShard = 2048;

    /// <summary>The catalog file (JSON Lines). Required.</summary>
    public string CatalogFile { get; set; } = "";

    /// <summary>The data set folder to create. Required.</summary>
    public string OutputDirectory { get; set; } = "";

    /// <summary>The side of the square images the model reads; every photo is resized and centre-cropped to it.</summary>
    /// <value>224, the base preset's (its 16-pixel patches divide it; tiny's 7 divides 28, 56, 112, 224).</value>
    public int ImageSize { get; set; } = DefaultImageSize;

    /// <summary>3 keeps colour; 1 stores grey images (smaller, for small models).</summary>
    public int Channels { get; set; } = 3;

    /// <summary>The share of products without a "split" that are held out for `cmm eval`, chosen by a hash of their id.</summary>
    /// <value>0.05; 0 holds out only products the catalog marks "eval".</value>
    public double EvalShare { get; set; } = DefaultEvalShare;

    /// <summary>The build fails when more than this share of the catalog's products cannot be used (their reasons are listed).</summary>
    /// <value>0.05: more usually means wrong image paths, which a data set should not silently lose.</value>
    public double MaxSkippedShare { get; set; } = DefaultMaxSkippedShare;

    /// <summary>Target SentencePiece vocabulary (a soft limit: a small catalog gets fewer pieces).</summary>
    public int VocabSize { get; set; } = DefaultVocabSize;

    public int SamplesPerShard { get; set; } = DefaultSamplesPerShard;

    public int JpegQuality { get; set; } = DefaultJpegQuality;

    /// <summary>
    /// A finished data set whose tokenizer this build keeps instead of training its own (null: train one). A model trained
    /// on that data set can then go on training on this one (job.init_from): the same token ids stand for the same words.
    /// </summary>
    public string? TokenizerFrom { get; set; }

    /// <summary>Seeds the tokenizer's training.</summary>
    public ulong Seed { get; set; } = FashionDatasetOptions.DefaultSeed;

    /// <summary>Threads that decode, resize and encode images; the output does not depend on it.</summary>
    public int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>Replace a finished data set built from other inputs; without it that is an error.</summary>
    public bool Overwrite { get; set; }

    /// <summary>Checks every option and names the first bad one.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(CatalogFile)) throw new ArgumentException($"{nameof(CatalogFile)} is required");
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException($"{nameof(OutputDirectory)} is required");
        if (ImageSize is < 8 or > 1024) throw new ArgumentException($"--image-size must be in 8..1024, got {ImageSize}");
        if (Channels is not (1 or 3)) throw new ArgumentException($"channels must be 1 (grey) or 3 (colour), got {Channels}");
        if (EvalShare is < 0 or >= 1 || double.IsNaN(EvalShare)) throw new ArgumentException($"--eval-share must be in [0, 1), got {EvalShare}");
        if (MaxSkippedShare is < 0 or > 1 || double.IsNaN(MaxSkippedShare)) throw new ArgumentException($"--max-skipped must be in [0, 1], got {MaxSkippedShare}");
        if (VocabSize is < 64 or > 1_000_000) throw new ArgumentException($"--vocab must be in 64..1000000, got {VocabSize}");
        if (SamplesPerShard < 1) throw new ArgumentException($"{nameof(SamplesPerShard)} must be at least 1, got {SamplesPerShard}");
        if (JpegQuality is < 1 or > 100) throw new ArgumentException($"{nameof(JpegQuality)} must be in 1..100, got {JpegQuality}");
        if (Workers < 1) throw new ArgumentException($"{nameof(Workers)} must be at least 1, got {Workers}");
    }
}
