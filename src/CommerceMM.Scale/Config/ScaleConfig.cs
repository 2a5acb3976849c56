using CommerceMM.Model.Config;

namespace CommerceMM.Scale.Config;

/// <summary>Table: "key: value; key: value" tokens of the product's attributes, each key and each value one entity.</summary>
public sealed record ScaleTableConfig
{
    public int Layers { get; init; } = 1;
    /// <summary>Tokens per table, [CLS] and [SEP] included.</summary>
    public int MaxLength { get; init; } = 48;
}

/// <summary>Video: a fixed number of frames, each average-pooled by <see cref="Pool"/> and flattened into one token.</summary>
public sealed record ScaleVideoConfig
{
    public int Frames { get; init; } = 4;
    public int Channels { get; init; } = 1;
    public int Size { get; init; } = 28;
    /// <summary>Average-pooling window per side before flattening (ours: a 28×28 frame becomes 7×7 = 49 features).</summary>
    public int Pool { get; init; } = 4;
    public int Layers { get; init; } = 1;

    public int FrameFeatures => Channels * (Size / Pool) * (Size / Pool);
}

/// <summary>Audio: log-mel frames, one token per frame, padded up to <see cref="MaxFrames"/>.</summary>
public sealed record ScaleAudioConfig
{
    public int Mels { get; init; } = 32;
    public int MaxFrames { get; init; } = 64;
    public int Layers { get; init; } = 1;
}

/// <summary>The whole SCALE configuration (MODEL.md §8); <see cref="Validate"/> names the bad key before any compute.</summary>
public sealed record ScaleConfig
{
    public int Dim { get; init; } = 128;
    public int Heads { get; init; } = 4;
    public int FfnMultiplier { get; init; } = 4;
    /// <summary>Width of the L2-normalised pooled modality embeddings.</summary>
    public int EmbedDim { get; init; } = 128;
    public double Dropout { get; init; } = 0.0;
    public int FusionLayers { get; init; } = 1;
    /// <summary>InfoNCE temperature (M5Product: 0.07, fixed).</summary>
    public double Temperature { get; init; } = 0.07;
    /// <summary>Share of each present modality's tokens (or table entities) masked per sample; at least one.</summary>
    public double MaskProbability { get; init; } = 0.15;
    /// <summary>Of the selected text tokens: this share replaced by a random token, the same share kept, the rest [MASK] (BERT's 80/10/10).</summary>
    public double MaskRandomShare { get; init; } = 0.1;

    /// <summary>
    /// Whether a masked loss's weight W[m, m] passes gradients back to the embeddings. MODEL.md §8 lets
    /// gradients flow through every weight, but through the diagonal that gives the model a shortcut:
    /// aligning every modality's pooled embedding with the others shrinks W[m, m] and so every masked
    /// loss, and the embeddings collapse (on fashion-scale every pair loss stayed near chance, log of the
    /// batch). Off by default: the diagonal's values still weight the masked losses, and the weights still
    /// learn through the contrastive pairs. On reproduces the letter of §8.
    /// </summary>
    public bool MaskedWeightGradient { get; init; }

    /// <summary>Modalities the model encodes; the others are treated as missing for every sample.</summary>
    public IReadOnlyList<ScaleModality> Modalities { get; init; } = ScaleModalities.All;

    /// <summary>Titles/descriptions; the table shares the vocabulary and special ids. One layer by default.</summary>
    public TextConfig Text { get; init; } = new() { Layers = 1 };
    public ScaleTableConfig Table { get; init; } = new();
    /// <summary>A ViT over non-overlapping patches (its mask ratio is CommerceMM's; SCALE masks by MaskProbability). One layer by default.</summary>
    public ImageConfig Image { get; init; } = new() { Layers = 1 };
    public ScaleVideoConfig Video { get; init; } = new();
    public ScaleAudioConfig Audio { get; init; } = new();

    /// <summary>Loss weight per task id (<see cref="ScaleTaskIds"/>); 0 skips the task. Missing tasks weigh 1.</summary>
    public IReadOnlyDictionary<string, double> TaskWeights { get; init; } = new Dictionary<string, double>();

    public int FfnDim => FfnMultiplier * Dim;

    public double Weight(string task) => TaskWeights.TryGetValue(task, out double w) ? w : 1.0;

    public bool Enabled(ScaleModality m) => Modalities.Contains(m);

    /// <summary>Tiny preset for 2 CPU cores (d=128, one layer per encoder and fusion).</summary>
    public static ScaleConfig Tiny() => new();

    /// <summary>Rejects inconsistent sizes, unknown tasks and modalities, and negative weights, naming the key.</summary>
    public ScaleConfig Validate()
    {
        ConfigChecks.Transformer(Dim, Heads, FfnMultiplier, EmbedDim, FusionLayers, Dropout);
        if (!(Temperature > 0) || double.IsInfinity(Temperature)) throw new ConfigException("model.temperature", $"must be a finite number > 0, got {Temperature}");
        if (MaskProbability is <= 0 or >= 1) throw new ConfigException("model.mask_probability", $"must be in (0, 1), got {MaskProbability}");
        if (MaskRandomShare is < 0 or > 0.5) throw new ConfigException("model.mask_random_share", $"must be in [0, 0.5] (random + kept shares are at most all), got {MaskRandomShare}");
        if (Modalities.Count == 0) throw new ConfigException("model.modalities", "enable at least one modality");
        if (Modalities.Distinct().Count() != Modalities.Count) throw new ConfigException("model.modalities", "lists a modality twice");

        Text.Validate("model.text");
        ConfigChecks.Positive("model.table.layers", Table.Layers);
        if (Table.MaxLength < 3) throw new ConfigException("model.table.max_length", $"must hold [CLS], a token and [SEP] (>= 3), got {Table.MaxLength}");

        Image.Validate("model.image");

        ConfigChecks.Positive("model.video.frames", Video.Frames);
        ConfigChecks.Positive("model.video.channels", Video.Channels);
        ConfigChecks.Positive("model.video.layers", Video.Layers);
        ConfigChecks.Positive("model.video.pool", Video.Pool);
        if (Video.Size <= 0 || Video.Size % Video.Pool != 0) throw new ConfigException("model.video.pool", $"pool {Video.Pool} must divide the frame size {Video.Size}");

        ConfigChecks.Positive("model.audio.mels", Audio.Mels);
        ConfigChecks.Positive("model.audio.max_frames", Audio.MaxFrames);
        ConfigChecks.Positive("model.audio.layers", Audio.Layers);

        foreach (var (task, weight) in TaskWeights)
        {
            if (!ScaleTaskIds.All.Contains(task)) throw new ConfigException($"model.task_weights.{task}", $"unknown task; known: {string.Join(", ", ScaleTaskIds.All)}");
            if (!(weight >= 0) || double.IsInfinity(weight)) throw new ConfigException($"model.task_weights.{task}", $"weight must be a finite number >= 0, got {weight}");
        }
        return this;
    }
}
