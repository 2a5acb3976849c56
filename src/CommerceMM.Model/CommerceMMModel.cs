using CommerceMM.Model.Config;
using CommerceMM.Model.Encoders;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model;

/// <summary>
/// CommerceMM (Yu et al., KDD 2022): text, image and fusion encoders, three L2-normalised embedding
/// projections, a CLIP-style logit scale, and the heads of the five pass-1 tasks. The MIM teacher
/// (an EMA of the image encoder and prototypes) and the mim_kl centre are model state too, so they
/// are saved with every checkpoint, but they are not trained by the optimizer.
/// </summary>
public sealed class CommerceMMModel : Module
{
    public const string TeacherPrefix = "teacher.";

    public CommerceMMModel(CommerceMMConfig config, ulong seed)
    {
        Config = config.Validate();
        using var g = new Generator(seed);
        DropoutGenerator = new Generator(seed ^ 0x5DEECE66DUL);
        Text = RegisterModule("text", new TextEncoder(config, g, DropoutGenerator));
        Image = RegisterModule("image", new ImageEncoder(config, g, DropoutGenerator));
        Fusion = RegisterModule("fusion", new FusionEncoder(config, g, DropoutGenerator));
        TextProjection = RegisterModule("text_projection", new Linear(config.Dim, config.EmbedDim, generator: g));
        ImageProjection = RegisterModule("image_projection", new Linear(config.Dim, config.EmbedDim, generator: g));
        FusionProjection = RegisterModule("fusion_projection", new Linear(config.Dim, config.EmbedDim, generator: g));
        LogitScale = RegisterParameter("logit_scale", Torch.Torch.Scalar(Math.Log(config.LogitScaleInit)));
        Mlm = RegisterModule("mlm_head", new MlmHead(Text.TokenEmbedding, config.Dim, g));
        Itm = RegisterModule("itm_head", new Linear(config.Dim, 1, generator: g));
        MimPredictor = RegisterModule("mim_predictor", new Linear(config.Dim, config.Dim, generator: g));
        Prototypes = RegisterParameter("prototypes", Init.Normal([config.Mim.Prototypes, config.Dim], 0.02, g));
        Teacher = RegisterModule("teacher", new MimTeacher(config, this, g, DropoutGenerator));
        MimCenter = RegisterBuffer("mim_center", Torch.Torch.Zeros([config.Mim.Prototypes]));
    }

    public CommerceMMConfig Config { get; }

    /// <summary>Draws every dropout mask for the model's lifetime; its state belongs in checkpoints.</summary>
    public Generator DropoutGenerator { get; }
    public TextEncoder Text { get; }
    public ImageEncoder Image { get; }
    public FusionEncoder Fusion { get; }
    public Linear TextProjection { get; }
    public Linear ImageProjection { get; }
    public Linear FusionProjection { get; }
    /// <summary>log of the contrastive logit scale (a scalar parameter).</summary>
    public Tensor LogitScale { get; }
    public MlmHead Mlm { get; }
    public Linear Itm { get; }
    public Linear MimPredictor { get; }
    public Tensor Prototypes { get; }
    public MimTeacher Teacher { get; }
    public Tensor MimCenter { get; }

    /// <summary>The parameters the optimizer updates: everything but the EMA teacher.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> TrainableParameters() =>
        NamedParameters().Where(p => !p.Name.StartsWith(TeacherPrefix, StringComparison.Ordinal)).ToList();

    /// <summary>exp(logit_scale) clamped to at most LogitScaleMax in the forward pass (the parameter is never clipped).</summary>
    public Tensor Scale() => LogitScale.Exp().Clamp(max: Config.LogitScaleMax);

    protected override void DisposeOwned() => DropoutGenerator.Dispose();

    // ---- embedding API: text-only and image-only never run the other branch ----

    /// <summary>e_t: (B, E) from text alone.</summary>
    public Tensor EmbedText(Tensor ids, Tensor padding, Allocation allocation)
    {
        using var scope = DisposeScope.Open();
        return scope.MoveToOuter(ProjectText(Text.Forward(ids, padding, allocation.Text)));
    }

    /// <summary>e_v: (B, E) from the image alone.</summary>
    public Tensor EmbedImage(Tensor images, Allocation allocation)
    {
        using var scope = DisposeScope.Open();
        return scope.MoveToOuter(ProjectImage(Image.Forward(images, null, allocation.Image)));
    }

    /// <summary>(e_t, e_v, e_m), each (B, E), from image and text together.</summary>
    public (Tensor Text, Tensor Image, Tensor Multimodal) EmbedProduct(Tensor ids, Tensor padding, Tensor images, Allocation allocation)
    {
        using var scope = DisposeScope.Open();
        var text = Text.Forward(ids, padding, allocation.Text);
        var image = Image.Forward(images, null, allocation.Image);
        var fused = Fusion.Forward(text, padding, image, allocation.Fusion);
        return (scope.MoveToOuter(ProjectText(text)), scope.MoveToOuter(ProjectImage(image)), scope.MoveToOuter(ProjectFusion(fused)));
    }

    /// <summary>Projections of an encoder output's position 0 ([CLS]) into the normalised embedding space.</summary>
    internal Tensor ProjectText(Tensor textTokens) => Project(TextProjection, textTokens);
    internal Tensor ProjectImage(Tensor imageTokens) => Project(ImageProjection, imageTokens);
    internal Tensor ProjectFusion(Tensor fusedTokens) => Project(FusionProjection, fusedTokens);

    private static Tensor Project(Linear projection, Tensor tokens)
    {
        using var scope = DisposeScope.Open();
        return scope.MoveToOuter(projection.Forward(tokens.Select(1, 0)).Normalize(-1));
    }
}
