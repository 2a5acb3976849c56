namespace CommerceMM.Model.Config;

/// <summary>Text encoder shape and the tokenizer's special ids (the data set's tokenizer fills these).</summary>
public sealed record TextConfig
{
    /// <summary>SentencePiece vocabulary size, including special pieces.</summary>
    public int VocabSize { get; init; } = 4000;
    /// <summary>T: text encoder layers.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Tokens per text, [CLS] and [SEP] included.</summary>
    public int MaxLength { get; init; } = 24;
    public int PadId { get; init; } = 0;
    public int ClsId { get; init; } = 2;
    public int SepId { get; init; } = 3;
    public int MaskId { get; init; } = 4;

    /// <summary>Checks sizes and special ids; keys are named under <paramref name="prefix"/> (e.g. "model.text").</summary>
    public void Validate(string prefix)
    {
        ConfigChecks.Positive($"{prefix}.vocab_size", VocabSize);
        ConfigChecks.Positive($"{prefix}.layers", Layers);
        if (MaxLength < 3) throw new ConfigException($"{prefix}.max_length", $"must hold [CLS], a token and [SEP] (>= 3), got {MaxLength}");
        foreach (var (key, id) in new[] { ("pad_id", PadId), ("cls_id", ClsId), ("sep_id", SepId), ("mask_id", MaskId) })
            if (id < 0 || id >= VocabSize) throw new ConfigException($"{prefix}.{key}", $"{id} is outside the vocabulary [0, {VocabSize})");
    }
}

/// <summary>ViT image encoder shape.</summary>
public sealed record ImageConfig
{
    public int Channels { get; init; } = 1;
    /// <summary>Square images of Size × Size pixels.</summary>
    public int Size { get; init; } = 28;
    public int Patch { get; init; } = 7;
    /// <summary>V: image encoder layers.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Share of patches masked for mim_fr/mim_kl (ours, MODEL.md §3).</summary>
    public double MaskRatio { get; init; } = 0.3;

    public int PatchCount => Size / Patch * (Size / Patch);
    public int PatchPixels => Channels * Patch * Patch;

    /// <summary>Checks sizes and the mask ratio; keys are named under <paramref name="prefix"/> (e.g. "model.image").</summary>
    public void Validate(string prefix)
    {
        ConfigChecks.Positive($"{prefix}.channels", Channels);
        ConfigChecks.Positive($"{prefix}.layers", Layers);
        ConfigChecks.Positive($"{prefix}.patch", Patch);
        if (Size <= 0 || Size % Patch != 0) throw new ConfigException($"{prefix}.patch", $"patch {Patch} must divide the image size {Size}");
        if (MaskRatio is <= 0 or >= 1) throw new ConfigException($"{prefix}.mask_ratio", $"must be in (0, 1), got {MaskRatio}");
    }
}

/// <summary>The MIM teacher and the mim_kl prototypes (ours: DINO/iBOT-style settings, MODEL.md §3).</summary>
public sealed record MimConfig
{
    public double TeacherMomentum { get; init; } = 0.996;
    public int Prototypes { get; init; } = 256;
    public double TeacherTemperature { get; init; } = 0.04;
    public double StudentTemperature { get; init; } = 0.1;
    public double CenterMomentum { get; init; } = 0.9;
}

/// <summary>A modality-randomization layer allocation: the first Text/Image/Fusion layers run (MODEL.md §6).</summary>
public sealed record Allocation(int Text, int Image, int Fusion, double Probability = 1.0)
{
    public override string ToString() => $"t{Text}-v{Image}-f{Fusion}";
}

/// <summary>The whole CommerceMM model configuration; <see cref="Validate"/> names the bad key before any compute.</summary>
public sealed record CommerceMMConfig
{
    /// <summary>d: the width of every encoder.</summary>
    public int Dim { get; init; } = 128;
    public int Heads { get; init; } = 4;
    /// <summary>FFN width = FfnMultiplier × d.</summary>
    public int FfnMultiplier { get; init; } = 4;
    /// <summary>Width of the L2-normalised embeddings e_t, e_v, e_m.</summary>
    public int EmbedDim { get; init; } = 128;
    public double Dropout { get; init; } = 0.0;
    /// <summary>Fusion encoder layers (F).</summary>
    public int FusionLayers { get; init; } = 1;
    /// <summary>CLIP-style: the learnable logit scale starts at 1/0.07 and is clamped to at most 100 in the forward pass.</summary>
    public double LogitScaleInit { get; init; } = 1 / 0.07;
    public double LogitScaleMax { get; init; } = 100;
    public double MlmProbability { get; init; } = 0.15;

    public TextConfig Text { get; init; } = new();
    public ImageConfig Image { get; init; } = new();
    public MimConfig Mim { get; init; } = new();

    /// <summary>Loss weight per task id; a weight of 0 skips the task's compute. Missing tasks weigh 1.</summary>
    public IReadOnlyDictionary<string, double> TaskWeights { get; init; } = new Dictionary<string, double>();

    /// <summary>Allocations sampled per step with their probabilities (normalised). Default: full depth only.</summary>
    public IReadOnlyList<Allocation> Allocations { get; init; } = [];

    public int FfnDim => FfnMultiplier * Dim;

    public double Weight(string task) => TaskWeights.TryGetValue(task, out double w) ? w : 1.0;

    public Allocation FullDepth => new(Text.Layers, Image.Layers, FusionLayers);

    public IReadOnlyList<Allocation> EffectiveAllocations => Allocations.Count > 0 ? Allocations : [FullDepth];

    /// <summary>The tiny preset (MODEL.md §2): d=128, h=4, T=V=2, F=1, patch 7 on 28×28 grey, text 24.</summary>
    public static CommerceMMConfig Tiny() => new();

    /// <summary>The small preset for benchmarks: d=256, h=4, T=V=4, F=2, patch 4, text 32.</summary>
    public static CommerceMMConfig Small() => new()
    {
        Dim = 256, EmbedDim = 256, FusionLayers = 2,
        Text = new TextConfig { Layers = 4, MaxLength = 32 },
        Image = new ImageConfig { Layers = 4, Patch = 4 },
    };

    /// <summary>Paper-scale shapes: d=768, h=12, T=V=12, F=6, 224×224 RGB, patch 16. For GPUs.</summary>
    public static CommerceMMConfig Base() => new()
    {
        Dim = 768, Heads = 12, EmbedDim = 256, FusionLayers = 6,
        Text = new TextConfig { Layers = 12, MaxLength = 64, VocabSize = 32000 },
        Image = new ImageConfig { Layers = 12, Channels = 3, Size = 224, Patch = 16 },
        Mim = new MimConfig { Prototypes = 1024 },
    };

    /// <summary>The names <see cref="Preset"/> knows.</summary>
    public static readonly IReadOnlyList<string> PresetNames = ["tiny", "small", "base"];

    /// <summary>
    /// The presets sized for square images of this side, smallest first: their patches divide it, into at most 4 times as
    /// many patches as their own images have (the image encoder's cost grows with the square of the count).
    /// </summary>
    public static IEnumerable<string> PresetsSizedFor(int imageSize) =>
        PresetNames.Where(p => Preset(p).Image is var own && imageSize % own.Patch == 0 && (own with { Size = imageSize }).PatchCount <= 4 * own.PatchCount);

    public static CommerceMMConfig Preset(string name) => name switch
    {
        "tiny" => Tiny(),
        "small" => Small(),
        "base" => Base(),
        _ => throw new ConfigException("model.preset", $"unknown preset '{name}'; use tiny, small or base"),
    };

    /// <summary>Rejects inconsistent sizes, unknown tasks, negative weights and impossible allocations, naming the key.</summary>
    public CommerceMMConfig Validate()
    {
        ConfigChecks.Transformer(Dim, Heads, FfnMultiplier, EmbedDim, FusionLayers, Dropout);
        if (!(LogitScaleInit > 0) || LogitScaleInit > LogitScaleMax) throw new ConfigException("model.logit_scale_init", $"must be in (0, logit_scale_max={LogitScaleMax}], got {LogitScaleInit}");
        if (MlmProbability is <= 0 or >= 1) throw new ConfigException("model.mlm_probability", $"must be in (0, 1), got {MlmProbability}");

        Text.Validate("model.text");
        Image.Validate("model.image");

        if (Mim.TeacherMomentum is < 0 or > 1) throw new ConfigException("model.mim.teacher_momentum", $"must be in [0, 1], got {Mim.TeacherMomentum}");
        if (Mim.CenterMomentum is < 0 or > 1) throw new ConfigException("model.mim.center_momentum", $"must be in [0, 1], got {Mim.CenterMomentum}");
        ConfigChecks.Positive("model.mim.prototypes", Mim.Prototypes);
        if (!(Mim.TeacherTemperature > 0)) throw new ConfigException("model.mim.teacher_temperature", "must be > 0");
        if (!(Mim.StudentTemperature > 0)) throw new ConfigException("model.mim.student_temperature", "must be > 0");

        foreach (var (task, weight) in TaskWeights)
        {
            if (!TaskIds.All.Contains(task)) throw new ConfigException($"model.task_weights.{task}", $"unknown task; known: {string.Join(", ", TaskIds.All)}");
            if (!(weight >= 0) || double.IsInfinity(weight)) throw new ConfigException($"model.task_weights.{task}", $"weight must be a finite number >= 0, got {weight}");
        }
        for (int i = 0; i < Allocations.Count; i++)
        {
            var a = Allocations[i];
            string key = $"model.allocations[{i}]";
            if (a.Text < 1 || a.Text > Text.Layers) throw new ConfigException(key + ".text", $"{a.Text} layers, but the text encoder has 1..{Text.Layers}");
            if (a.Image < 1 || a.Image > Image.Layers) throw new ConfigException(key + ".image", $"{a.Image} layers, but the image encoder has 1..{Image.Layers}");
            if (a.Fusion < 1 || a.Fusion > FusionLayers) throw new ConfigException(key + ".fusion", $"{a.Fusion} layers, but the fusion encoder has 1..{FusionLayers}");
            if (!(a.Probability > 0) || double.IsInfinity(a.Probability)) throw new ConfigException(key + ".probability", $"must be a finite number > 0, got {a.Probability}");
        }
        return this;
    }
}
