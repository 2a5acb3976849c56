using CommerceMM.Model.Config;
using CommerceMM.Model.Encoders;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Model;

/// <summary>
/// CommerceMM (Yu et al., KDD 2022): text, image and fusion encoders, three L2-normalised embedding
/// projections, a CLIP-style logit scale, and the heads of the five pass-1 tasks. The MIM teacher
/// (an EMA of the image encoder and prototypes) and the mim_kl centre are model state too, so they
/// are saved with every checkpoint, but they are not trained by the optimizer.
/// </summary>
/// <remarks>
/// The weights are drawn on the CPU from the seed, then moved to the job's device, so a model starts
/// identically on any device. Parameters stay fp32 (the master weights) in every precision.
/// </remarks>
public sealed class CommerceMMModel : ExplicitModule
{
    public const string TeacherPrefix = "teacher.";

    [ComponentName(Name = "logit_scale")] private Parameter _logitScale;
    [ComponentName(Name = "prototypes")] private Parameter _prototypes;
    [ComponentName(Name = "mim_center")] private Tensor _mimCenter;

    /// <param name="settings">device and precision (job.device, model.precision); CPU fp32 when null</param>
    public CommerceMMModel(CommerceMMConfig config, ulong seed, DeviceSettings? settings = null) : base(nameof(CommerceMMModel))
    {
        Config = config.Validate();
        Settings = settings ?? DeviceSettings.Cpu;
        using var g = new Generator(seed);
        DropoutGenerator = new Generator(seed ^ 0x5DEECE66DUL);
        Text = AddModule("text", new TextEncoder(config, g, DropoutGenerator));
        Image = AddModule("image", new ImageEncoder(config, g, DropoutGenerator));
        Fusion = AddModule("fusion", new FusionEncoder(config, g, DropoutGenerator));
        TextProjection = AddModule("text_projection", Layers.Linear(config.Dim, config.EmbedDim, g));
        ImageProjection = AddModule("image_projection", Layers.Linear(config.Dim, config.EmbedDim, g));
        FusionProjection = AddModule("fusion_projection", Layers.Linear(config.Dim, config.EmbedDim, g));
        _logitScale = AddParameter("logit_scale", HeldScalars.Full([], Math.Log(config.LogitScaleInit), ScalarType.Float32, torch.CPU));
        Mlm = AddModule("mlm_head", new MlmHead(Text.TokenEmbedding, config.Dim, g));
        Itm = AddModule("itm_head", Layers.Linear(config.Dim, 1, g));
        MimPredictor = AddModule("mim_predictor", Layers.Linear(config.Dim, config.Dim, g));
        _prototypes = AddParameter("prototypes", Init.Normal([config.Mim.Prototypes, config.Dim], 0.02, g));
        Teacher = AddModule("teacher", new MimTeacher(config, this, g, DropoutGenerator));
        _mimCenter = AddBuffer("mim_center", torch.zeros(config.Mim.Prototypes, device: torch.CPU));
        if (Settings.Device.type != DeviceType.CPU) this.to(Settings.Device);
        // Side by side only on the CPU, and only without dropout: the masks come from one generator in draw order.
        Branches = new ConcurrentBranches(Settings.Device.type == DeviceType.CPU && config.Dropout == 0 && EncodersBalanced(config));
    }

    public CommerceMMConfig Config { get; }

    /// <summary>Where the weights live and which precision the forward passes compute in.</summary>
    public DeviceSettings Settings { get; }

    public Device Device => Settings.Device;

    /// <summary>Draws every dropout mask for the model's lifetime (a CPU generator); its state belongs in checkpoints.</summary>
    public Generator DropoutGenerator { get; }

    /// <summary>Runs the text and the image encoder of a pass side by side where that pays.</summary>
    public ConcurrentBranches Branches { get; }

    public TextEncoder Text { get; }
    public ImageEncoder Image { get; }
    public FusionEncoder Fusion { get; }
    public Linear TextProjection { get; }
    public Linear ImageProjection { get; }
    public Linear FusionProjection { get; }
    /// <summary>log of the contrastive logit scale (a scalar parameter).</summary>
    public Parameter LogitScale => _logitScale;
    public MlmHead Mlm { get; }
    public Linear Itm { get; }
    public Linear MimPredictor { get; }
    public Parameter Prototypes => _prototypes;
    public MimTeacher Teacher { get; }
    public Tensor MimCenter => _mimCenter;

    /// <summary>The parameters the optimizer updates: everything but the EMA teacher.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> TrainableParameters() =>
        this.NamedParameters().Where(p => !p.Name.StartsWith(TeacherPrefix, StringComparison.Ordinal)).ToList();

    /// <summary>Enters this model's precision on the calling thread for one forward pass.</summary>
    public MixedPrecision.Region ComputeRegion() => MixedPrecision.Enter(Settings.Precision);

    /// <summary>exp(logit_scale) clamped to at most LogitScaleMax in the forward pass (the parameter is never clipped).</summary>
    public Tensor Scale()
    {
        using var exp = _logitScale.exp();
        return exp.ClampMax(Config.LogitScaleMax);
    }

    /// <summary>
    /// Whether the text and the image encoder have about the same work (sequence length × depth, within 2×), so that side
    /// by side neither waits long for the other. At base (64 text tokens against 197 image tokens, 12 layers each) the
    /// image encoder alone on one thread took longer than both on two: 7.4 against 6.3 s a bf16 step (CONTRIBUTING).
    /// </summary>
    internal static bool EncodersBalanced(CommerceMMConfig c)
    {
        double text = c.Text.MaxLength * c.Text.Layers, image = (c.Image.PatchCount + 1) * c.Image.Layers;
        return Math.Min(text, image) * 2 >= Math.Max(text, image);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropoutGenerator.Dispose();
            Branches.Dispose();
        }
        base.Dispose(disposing);
    }

    // ---- embedding API: text-only and image-only never run the other branch ----

    /// <summary>e_t: (B, E) from text alone.</summary>
    public Tensor EmbedText(Tensor ids, Tensor padding, Allocation allocation)
    {
        using var region = ComputeRegion();
        using var scope = torch.NewDisposeScope();
        return ProjectText(Text.Forward(ids, padding, allocation.Text)).MoveToOuterDisposeScope();
    }

    /// <summary>e_v: (B, E) from the image alone.</summary>
    public Tensor EmbedImage(Tensor images, Allocation allocation)
    {
        using var region = ComputeRegion();
        using var scope = torch.NewDisposeScope();
        return ProjectImage(Image.Forward(images, null, allocation.Image)).MoveToOuterDisposeScope();
    }

    /// <summary>(e_t, e_v, e_m), each (B, E), from image and text together.</summary>
    public (Tensor Text, Tensor Image, Tensor Multimodal) EmbedProduct(Tensor ids, Tensor padding, Tensor images, Allocation allocation)
    {
        using var region = ComputeRegion();
        using var scope = torch.NewDisposeScope();
        var text = Text.Forward(ids, padding, allocation.Text);
        var image = Image.Forward(images, null, allocation.Image);
        var fused = Fusion.Forward(text, padding, image, allocation.Fusion);
        return (ProjectText(text).MoveToOuterDisposeScope(), ProjectImage(image).MoveToOuterDisposeScope(), ProjectFusion(fused).MoveToOuterDisposeScope());
    }

    /// <summary>Projections of an encoder output's position 0 ([CLS]) into the normalised embedding space (fp32).</summary>
    internal Tensor ProjectText(Tensor textTokens) => Project(TextProjection, textTokens);
    internal Tensor ProjectImage(Tensor imageTokens) => Project(ImageProjection, imageTokens);
    internal Tensor ProjectFusion(Tensor fusedTokens) => Project(FusionProjection, fusedTokens);

    private static Tensor Project(Linear projection, Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var projected = projection.forward(tokens.select(1, 0));
        return torch.nn.functional.normalize(projected, dim: -1).MoveToOuterDisposeScope();
    }
}
