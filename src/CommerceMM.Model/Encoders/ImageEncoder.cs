using CommerceMM.Tensors;
using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// A ViT: non-overlapping patches → linear projection, a learned [CLS] and positions, transformer
/// layers. Masked patches (for mim_fr/mim_kl) are replaced by a learned mask embedding before the
/// positions are added, as in BEiT/iBOT.
/// </summary>
public sealed class ImageEncoder : ExplicitModule
{
    private readonly ImageConfig _image;
    [ComponentName(Name = "cls_token")] private Parameter _clsToken;
    [ComponentName(Name = "position_embedding")] private Parameter _positionEmbedding;
    [ComponentName(Name = "mask_token")] private Parameter _maskToken;

    public ImageEncoder(CommerceMMConfig c, Generator g, Generator dropout) : base(nameof(ImageEncoder))
    {
        _image = c.Image;
        PatchEmbedding = AddModule("patch_embedding", Layers.Linear(c.Image.PatchPixels, c.Dim, g));
        _clsToken = AddParameter("cls_token", Init.Normal([1, 1, c.Dim], 0.02, g));
        _positionEmbedding = AddParameter("position_embedding", Init.Normal([c.Image.PatchCount + 1, c.Dim], 0.02, g));
        _maskToken = AddParameter("mask_token", Init.Normal([c.Dim], 0.02, g));
        Encoder = AddModule("encoder", new EncoderStack(c.Image.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public Linear PatchEmbedding { get; }
    public Parameter ClsToken => _clsToken;
    public Parameter PositionEmbedding => _positionEmbedding;
    public Parameter MaskToken => _maskToken;
    public EncoderStack Encoder { get; }

    /// <param name="images">(B, C, H, W) float32</param>
    /// <param name="patchMask">(B, N) bool, true where a patch is masked; null for the clean image</param>
    /// <returns>(B, N + 1, d): [CLS] then the N patches</returns>
    public Tensor Forward(Tensor images, Tensor? patchMask, int depth)
    {
        using var scope = torch.NewDisposeScope();
        long b = images.size(0);
        var x = PatchEmbedding.forward(Patchify(images));   // (B, N, d)
        if (patchMask is not null) x = torch.where(patchMask.unsqueeze(-1), _maskToken, x);
        var cls = _clsToken.expand(b, 1, _clsToken.size(2));                                    // (B, 1, d)
        x = torch.cat([cls, x], 1).Add(_positionEmbedding);                                     // (B, N + 1, d)
        return Encoder.Forward(x, null, depth).MoveToOuterDisposeScope();
    }

    /// <summary>(B, C, H, W) → (B, N, C·p·p), patches in row-major order.</summary>
    public Tensor Patchify(Tensor images)
    {
        long[] s = images.shape;
        int p = _image.Patch;
        if (s.Length != 4 || s[1] != _image.Channels || s[2] != _image.Size || s[3] != _image.Size)
            throw new ArgumentException($"images must be (batch, {_image.Channels}, {_image.Size}, {_image.Size}); got {TensorMemory.FormatShape(s)}");
        using var scope = torch.NewDisposeScope();
        long rows = s[2] / p, cols = s[3] / p;
        var patches = images.view(s[0], s[1], rows, p, cols, p)                   // (B, C, H/p, p, W/p, p)
            .permute(0, 2, 4, 1, 3, 5)                                             // (B, H/p, W/p, C, p, p)
            .reshape(s[0], rows * cols, s[1] * p * p);                             // (B, N, C·p·p)
        return patches.MoveToOuterDisposeScope();
    }
}
