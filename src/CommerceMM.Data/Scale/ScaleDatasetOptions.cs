using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;

namespace CommerceMM.Data.Scale;

/// <summary>
/// What <see cref="ScaleDatasetBuilder"/> builds on top of the Fashion-MNIST catalog: which modalities,
/// how often each is missing, and the video and audio shapes. Defaults build a small corpus quickly.
/// </summary>
public sealed class ScaleDatasetOptions
{
    /// <summary>Output folder, source, limits, seed, vocabulary, shard size, JPEG quality, workers, overwrite.</summary>
    public FashionDatasetOptions Catalog { get; set; } = new();

    /// <summary>Modalities to store (<see cref="Modality.Known"/> names).</summary>
    public IReadOnlyList<string> Modalities { get; set; } = Modality.Known;

    /// <summary>Per modality, the share of products that lack it (drawn per product from the seed).</summary>
    /// <value>image 0.05, text 0.1, table 0.1, video 0.2, audio 0.0 (audio is already limited by <see cref="AudioLimit"/>).</value>
    public IReadOnlyDictionary<string, double> MissingRates { get; set; } = new Dictionary<string, double>
    {
        [Modality.Image] = 0.05, [Modality.Text] = 0.1, [Modality.Table] = 0.1, [Modality.Video] = 0.2, [Modality.Audio] = 0.0,
    };

    /// <summary>At most this many products per split get audio (espeak-ng runs once per product, ~0.1 s each).</summary>
    /// <value>256.</value>
    public int AudioLimit { get; set; } = 256;

    /// <summary>Frames per video: a zoom/rotate/pan path over the photo.</summary>
    public int VideoFrames { get; set; } = 4;

    public LogMelOptions Mel { get; set; } = new();

    /// <exception cref="ArgumentException">Names the first bad option.</exception>
    public void Validate()
    {
        Catalog.Validate();
        if (Modalities.Count == 0) throw new ArgumentException($"{nameof(Modalities)} must name at least one modality");
        foreach (string m in Modalities)
            if (!Modality.Known.Contains(m)) throw new ArgumentException($"{nameof(Modalities)}: unknown modality '{m}' (known: {string.Join(", ", Modality.Known)})");
        foreach (var (m, rate) in MissingRates)
        {
            if (!Modality.Known.Contains(m)) throw new ArgumentException($"{nameof(MissingRates)}: unknown modality '{m}'");
            if (rate is < 0 or >= 1) throw new ArgumentException($"{nameof(MissingRates)}[{m}] must be in [0, 1), got {rate}");
        }
        if (AudioLimit < 0) throw new ArgumentException($"{nameof(AudioLimit)} must be >= 0, got {AudioLimit}");
        if (VideoFrames is < 1 or > 64) throw new ArgumentException($"{nameof(VideoFrames)} must be in 1..64, got {VideoFrames}");
        Mel.Validate();
    }

    public double MissingRate(string modality) => MissingRates.TryGetValue(modality, out double r) ? r : 0;
}

/// <summary>The log-mel spectrogram of the spoken title.</summary>
public sealed record LogMelOptions
{
    /// <value>1024 samples (46 ms at espeak-ng's 22,050 Hz).</value>
    public int FftSize { get; init; } = 1024;
    /// <value>768 samples (35 ms).</value>
    public int Hop { get; init; } = 768;
    public int Mels { get; init; } = 32;
    /// <summary>Longer speech is cut here (and counted in the manifest).</summary>
    /// <value>96 frames (≈3.3 s).</value>
    public int MaxFrames { get; init; } = 96;

    public void Validate()
    {
        if (FftSize < 16 || (FftSize & (FftSize - 1)) != 0) throw new ArgumentException($"{nameof(FftSize)} must be a power of two >= 16, got {FftSize}");
        if (Hop < 1 || Hop > FftSize) throw new ArgumentException($"{nameof(Hop)} must be in 1..{FftSize}, got {Hop}");
        if (Mels < 1 || Mels > FftSize / 2) throw new ArgumentException($"{nameof(Mels)} must be in 1..{FftSize / 2}, got {Mels}");
        if (MaxFrames < 1) throw new ArgumentException($"{nameof(MaxFrames)} must be at least 1, got {MaxFrames}");
    }
}
