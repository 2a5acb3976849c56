using CommerceMM.Model.Encoders;
using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Encoders;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Scale;

/// <summary>
/// M5Product's SCALE (Dong et al., CVPR 2022; MODEL.md §8): one encoder per modality, a joint fusion
/// transformer over their concatenation, an L2-normalised pooled embedding per modality (projection of
/// that encoder's [CLS]), the text/table vocabulary heads and the image/video/audio regression heads.
/// Every part is built whether or not its modality is enabled, so state dicts have one shape.
/// </summary>
/// <remarks>
/// The weights are drawn on the CPU from the seed, then moved to the job's device, so a model starts
/// identically on any device. Parameters stay fp32 (the master weights) in every precision.
/// </remarks>
public sealed class ScaleModel : ExplicitModule
{
    /// <param name="settings">device and precision (job.device, model.precision); CPU fp32 when null</param>
    public ScaleModel(ScaleConfig config, ulong seed, DeviceSettings? settings = null) : base(nameof(ScaleModel))
    {
        Config = config.Validate();
        Settings = settings ?? DeviceSettings.Cpu;
        var c = config;
        using var g = new Generator(seed);
        DropoutGenerator = new Generator(seed ^ 0x5DEECE66DUL);
        var d = DropoutGenerator;
        Words = AddModule("word_embedding", Layers.Embedding(c.Text.VocabSize, c.Dim, std: 0.02, generator: g));
        Image = AddModule("image", new FeatureEncoder(c.Image.PatchPixels, c.Image.PatchCount, c.Image.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Text = AddModule("text", new TokenEncoder(Words, c.Text.MaxLength, c.Text.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Table = AddModule("table", new TokenEncoder(Words, c.Table.MaxLength, c.Table.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Video = AddModule("video", new FeatureEncoder(c.Video.FrameFeatures, c.Video.Frames, c.Video.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Audio = AddModule("audio", new FeatureEncoder(c.Audio.Mels, c.Audio.MaxFrames, c.Audio.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, d));
        Fusion = AddModule("fusion", new ScaleFusionEncoder(c, g, d));
        Projections = AddModule("projections", new ModuleList<Linear>(ScaleModalities.All.Select(_ => Layers.Linear(c.Dim, c.EmbedDim, g)).ToArray()));
        TextHead = AddModule("text_head", new MlmHead(Words, c.Dim, g));
        TableHead = AddModule("table_head", new MlmHead(Words, c.Dim, g));
        ImageHead = AddModule("image_head", Layers.Linear(c.Dim, c.Image.PatchPixels, g));
        VideoHead = AddModule("video_head", Layers.Linear(c.Dim, c.Video.FrameFeatures, g));
        AudioHead = AddModule("audio_head", Layers.Linear(c.Dim, c.Audio.Mels, g));
        if (Settings.Device.type != DeviceType.CPU) this.to(Settings.Device);
    }

    public ScaleConfig Config { get; }

    /// <summary>Where the weights live and which precision the forward passes compute in.</summary>
    public DeviceSettings Settings { get; }

    /// <summary>Where the parameters live: every tensor of a step is made there.</summary>
    public Device Device => Settings.Device;

    /// <summary>Enters this model's precision on the calling thread for one forward pass.</summary>
    public MixedPrecision.Region ComputeRegion() => MixedPrecision.Enter(Settings.Precision);

    /// <summary>Draws every dropout mask for the model's lifetime; its state belongs in checkpoints.</summary>
    public Generator DropoutGenerator { get; }
    /// <summary>The word embedding shared by text, table and both vocabulary heads.</summary>
    public EmbeddingTable Words { get; }
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

    protected override void Dispose(bool disposing)
    {
        if (disposing) DropoutGenerator.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>
    /// The regression input of a feature modality: image patches (B, N, C·p·p), pooled video frames
    /// (B, F, C·(H/pool)·(W/pool)) or log-mel frames (B, T, mels), plus its padding (audio only).
    /// These are also the masked-regression targets.
    /// </summary>
    public (Tensor Features, Tensor? Padding) Features(ScaleModality m, ScaleInputs inputs)
    {
        using var scope = NewDisposeScope();
        switch (m)
        {
            case ScaleModality.Image:
                return (Patchify(inputs.Images!).MoveToOuterDisposeScope(), null);
            case ScaleModality.Video:
                return (PoolFrames(inputs.Video!).MoveToOuterDisposeScope(), null);
            case ScaleModality.Audio:
                var audio = inputs.Audio!;
                if (audio.dim() != 3 || audio.size(2) != Config.Audio.Mels || audio.size(1) < 1 || audio.size(1) > Config.Audio.MaxFrames)
                    throw new ArgumentException($"audio must be (batch, 1..{Config.Audio.MaxFrames} frames (model.audio.max_frames), {Config.Audio.Mels} mels); got {TensorMemory.FormatShape(audio.shape)}");
                return (audio.alias().MoveToOuterDisposeScope(), inputs.AudioPadding);
            default:
                throw new ArgumentOutOfRangeException(nameof(m), m, "text and table are token modalities");
        }
    }

    /// <summary>(B, C, H, W) → (B, N, C·p·p), patches in row-major order.</summary>
    private Tensor Patchify(Tensor images)
    {
        var c = Config.Image;
        long[] s = images.shape;
        if (s.Length != 4 || s[1] != c.Channels || s[2] != c.Size || s[3] != c.Size)
            throw new ArgumentException($"images must be (batch, {c.Channels}, {c.Size}, {c.Size}); got {TensorMemory.FormatShape(s)}");
        long side = c.Size / c.Patch;
        return images.view(s[0], c.Channels, side, c.Patch, side, c.Patch)   // (B, C, H/p, p, W/p, p)
            .permute(0, 2, 4, 1, 3, 5)                                       // (B, H/p, W/p, C, p, p)
            .reshape(s[0], side * side, c.PatchPixels);                      // (B, N, C·p·p)
    }

    /// <summary>(B, F, C, H, W) → (B, F, C·(H/pool)·(W/pool)): each frame average-pooled into one feature vector.</summary>
    private Tensor PoolFrames(Tensor video)
    {
        var c = Config.Video;
        long[] s = video.shape;
        if (s.Length != 5 || s[1] != c.Frames || s[2] != c.Channels || s[3] != c.Size || s[4] != c.Size)
            throw new ArgumentException($"video must be (batch, {c.Frames} frames (model.video.frames), {c.Channels}, {c.Size}, {c.Size}); got {TensorMemory.FormatShape(s)}");
        long side = c.Size / c.Pool;
        return video.view(s[0], c.Frames, c.Channels, side, c.Pool, side, c.Pool)  // (B, F, C, H/q, q, W/q, q)
            .mean([4, 6])                                                          // (B, F, C, H/q, W/q)
            .reshape(s[0], c.Frames, c.FrameFeatures);                             // (B, F, features)
    }

    /// <summary>The pooled, L2-normalised embedding (B, E) of an encoder output's [CLS].</summary>
    public Tensor Pool(ScaleModality m, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var projected = MixedPrecision.Float(MixedPrecision.Linear(Projections[(int)m], tokens.select(1, 0)));
        return nn.functional.normalize(projected, dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Every enabled modality through its encoder (with the plan's masked inputs when given), then the
    /// fusion over all of them with missing modalities blocked. The inputs, presence and plan are on <see cref="Device"/>.
    /// </summary>
    /// <param name="present">(B, 5) bool: effective presence (given and enabled)</param>
    public ScaleEncoding Encode(ScaleInputs inputs, Tensor present, ScaleMaskPlan? plan)
    {
        using var region = ComputeRegion();
        using var scope = NewDisposeScope();
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
        foreach (var t in result.Tensors()) t.MoveToOuterDisposeScope();
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
