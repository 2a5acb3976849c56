using CommerceMM.Model.Encoders;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Encoders;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Scale;

/// <summary>
/// M5Product's SCALE (Dong et al., CVPR 2022; MODEL.md §8): one encoder per modality, a joint fusion
/// transformer over their concatenation, an L2-normalised pooled embedding per modality (projection of
/// that encoder's [CLS]), the text/table vocabulary heads and the image/video/audio regression heads.
/// Every part is built whether or not its modality is enabled, so state dicts have one shape.
/// </summary>
public sealed class ScaleModel : Module
{
    public ScaleModel(ScaleConfig config, ulong seed)
    {
        Config = config.Validate();
        var c = config;
        using var g = new Generator(seed);
        DropoutGenerator = new Generator(seed ^ 0x5DEECE66DUL);
        var d = DropoutGenerator;
        Words = RegisterModule("word_embedding", new Embedding(c.Text.VocabSize, c.Dim, std: 0.02, generator: g));
        Image = RegisterModule("image", new FeatureEncoder(c.Image.PatchPixels, c.Image.PatchCount, c.Image.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Text = RegisterModule("text", new TokenEncoder(Words, c.Text.MaxLength, c.Text.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Table = RegisterModule("table", new TokenEncoder(Words, c.Table.MaxLength, c.Table.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Video = RegisterModule("video", new FeatureEncoder(c.Video.FrameFeatures, c.Video.Frames, c.Video.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Audio = RegisterModule("audio", new FeatureEncoder(c.Audio.Mels, c.Audio.MaxFrames, c.Audio.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Fusion = RegisterModule("fusion", new ScaleFusionEncoder(c, g, d));
        Projections = RegisterModule("projections", new ModuleList<Linear>(ScaleModalities.All.Select(_ => new Linear(c.Dim, c.EmbedDim, generator: g))));
        TextHead = RegisterModule("text_head", new MlmHead(Words, c.Dim, g));
        TableHead = RegisterModule("table_head", new MlmHead(Words, c.Dim, g));
        ImageHead = RegisterModule("image_head", new Linear(c.Dim, c.Image.PatchPixels, generator: g));
        VideoHead = RegisterModule("video_head", new Linear(c.Dim, c.Video.FrameFeatures, generator: g));
        AudioHead = RegisterModule("audio_head", new Linear(c.Dim, c.Audio.Mels, generator: g));
    }

    public ScaleConfig Config { get; }

    /// <summary>Draws every dropout mask for the model's lifetime; its state belongs in checkpoints.</summary>
    public Generator DropoutGenerator { get; }
    /// <summary>The word embedding shared by text, table and both vocabulary heads.</summary>
    public Embedding Words { get; }
    public FeatureEncoder Image { get; }
    public TokenEncoder Text { get; }
    public TokenEncoder Table { get; }
    public FeatureEncoder Video { get; }
    public FeatureEncoder Audio { get; }
    public ScaleFusionEncoder Fusion { get; }
    /// <summary>Per modality (in <see cref="ScaleModality"/> order): [CLS] → pooled embedding.</summary>
    public ModuleList<Linear> Projections { get; }
    public MlmHead TextHead { get; }
    public MlmHead TableHead { get; }
    public Linear ImageHead { get; }
    public Linear VideoHead { get; }
    public Linear AudioHead { get; }

    protected override void DisposeOwned() => DropoutGenerator.Dispose();

    /// <summary>
    /// The regression input of a feature modality: image patches (B, N, C·p·p), pooled video frames
    /// (B, F, C·(H/pool)·(W/pool)) or log-mel frames (B, T, mels), plus its padding (audio only).
    /// These are also the masked-regression targets.
    /// </summary>
    public (Tensor Features, Tensor? Padding) Features(ScaleModality m, ScaleInputs inputs)
    {
        using var scope = DisposeScope.Open();
        switch (m)
        {
            case ScaleModality.Image:
                return (scope.MoveToOuter(Patchify(inputs.Images!)), null);
            case ScaleModality.Video:
                return (scope.MoveToOuter(PoolFrames(inputs.Video!)), null);
            case ScaleModality.Audio:
                var audio = inputs.Audio!;
                if (audio.Dim != 3 || audio.Size(2) != Config.Audio.Mels || audio.Size(1) < 1 || audio.Size(1) > Config.Audio.MaxFrames)
                    throw new ArgumentException($"audio must be (batch, 1..{Config.Audio.MaxFrames} frames (model.audio.max_frames), {Config.Audio.Mels} mels); got {Tensor.FormatShape(audio.Shape)}");
                return (scope.MoveToOuter(audio.Reshape(audio.Shape)), inputs.AudioPadding);
            default:
                throw new ArgumentOutOfRangeException(nameof(m), m, "text and table are token modalities");
        }
    }

    /// <summary>(B, C, H, W) → (B, N, C·p·p), patches in row-major order.</summary>
    private Tensor Patchify(Tensor images)
    {
        var c = Config.Image;
        long[] s = images.Shape;
        if (s.Length != 4 || s[1] != c.Channels || s[2] != c.Size || s[3] != c.Size)
            throw new ArgumentException($"images must be (batch, {c.Channels}, {c.Size}, {c.Size}); got {Tensor.FormatShape(s)}");
        long side = c.Size / c.Patch;
        return images.View(s[0], c.Channels, side, c.Patch, side, c.Patch)   // (B, C, H/p, p, W/p, p)
            .Permute(0, 2, 4, 1, 3, 5)                                       // (B, H/p, W/p, C, p, p)
            .Reshape(s[0], side * side, c.PatchPixels);                      // (B, N, C·p·p)
    }

    /// <summary>(B, F, C, H, W) → (B, F, C·(H/pool)·(W/pool)): each frame average-pooled into one feature vector.</summary>
    private Tensor PoolFrames(Tensor video)
    {
        var c = Config.Video;
        long[] s = video.Shape;
        if (s.Length != 5 || s[1] != c.Frames || s[2] != c.Channels || s[3] != c.Size || s[4] != c.Size)
            throw new ArgumentException($"video must be (batch, {c.Frames} frames (model.video.frames), {c.Channels}, {c.Size}, {c.Size}); got {Tensor.FormatShape(s)}");
        long side = c.Size / c.Pool;
        return video.View(s[0], c.Frames, c.Channels, side, c.Pool, side, c.Pool)  // (B, F, C, H/q, q, W/q, q)
            .Mean([4, 6])                                                          // (B, F, C, H/q, W/q)
            .Reshape(s[0], c.Frames, c.FrameFeatures);                             // (B, F, features)
    }

    /// <summary>The pooled, L2-normalised embedding (B, E) of an encoder output's [CLS].</summary>
    public Tensor Pool(ScaleModality m, Tensor tokens)
    {
        using var scope = DisposeScope.Open();
        return scope.MoveToOuter(Projections[(int)m].Forward(tokens.Select(1, 0)).Normalize(-1));
    }

    /// <summary>
    /// Every enabled modality through its encoder (with the plan's masked inputs when given), then the
    /// fusion over all of them with missing modalities blocked.
    /// </summary>
    /// <param name="present">(B, 5) bool: effective presence (given and enabled)</param>
    public ScaleEncoding Encode(ScaleInputs inputs, Tensor present, ScaleMaskPlan? plan)
    {
        using var scope = DisposeScope.Open();
        var parts = new List<EncodedModality>();
        foreach (var m in Config.Modalities.OrderBy(x => x))
        {
            Tensor tokens, padding;
            Tensor? features = null;
            switch (m)
            {
                case ScaleModality.Text:
                    (tokens, padding) = Text.Forward(plan?.TextIds ?? inputs.TextIds!, inputs.TextPadding!);
                    break;
                case ScaleModality.Table:
                    (tokens, padding) = Table.Forward(plan?.TableIds ?? inputs.TableIds!, inputs.TablePadding!);
                    break;
                default:
                    var (f, pad) = Features(m, inputs);
                    features = f;
                    var encoder = m == ScaleModality.Image ? Image : m == ScaleModality.Video ? Video : Audio;
                    (tokens, padding) = encoder.Forward(f, pad, plan?.FeatureMask(m));
                    break;
            }
            parts.Add(new EncodedModality(m, tokens, padding, Pool(m, tokens), features));
        }
        var fused = Fusion.Forward(parts.Select(p => (p.Modality, p.Tokens, p.Padding)).ToList(), present);
        var result = new ScaleEncoding(parts.Select((p, i) => p with { Fused = fused[i] }).ToList());
        foreach (var t in result.Tensors()) scope.MoveToOuter(t);
        return result;
    }
}

/// <summary>One modality of a batch after encoding: encoder output, its padding, pooled embedding, regression inputs (feature modalities) and fused slice.</summary>
public sealed record EncodedModality(ScaleModality Modality, Tensor Tokens, Tensor Padding, Tensor Pooled, Tensor? Features)
{
    /// <summary>(B, L_m, d): this modality's slice of the fusion output.</summary>
    public Tensor Fused { get; init; } = null!;
}

/// <summary>The enabled modalities of one batch, encoded and fused.</summary>
public sealed record ScaleEncoding(IReadOnlyList<EncodedModality> Parts)
{
    public EncodedModality? this[ScaleModality m] => Parts.FirstOrDefault(p => p.Modality == m);

    internal IEnumerable<Tensor> Tensors() =>
        Parts.SelectMany(p => new[] { p.Tokens, p.Padding, p.Pooled, p.Fused, p.Features }).OfType<Tensor>();
}
