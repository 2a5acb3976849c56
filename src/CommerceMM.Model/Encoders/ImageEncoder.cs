using CommerceMM.Model.Config;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// A ViT: non-overlapping patches → linear projection, a learned [CLS] and positions, transformer
/// layers. Masked patches (for mim_fr/mim_kl) are replaced by a learned mask embedding before the
/// positions are added, as in BEiT/iBOT.
/// </summary>
public sealed class ImageEncoder : Module
{
    private readonly ImageConfig _image;

    public ImageEncoder(CommerceMMConfig c, Generator g, Generator dropout)
    {
        _image = c.Image;
        PatchEmbedding = RegisterModule("patch_embedding", new Linear(c.Image.PatchPixels, c.Dim, generator: g));
        ClsToken = RegisterParameter("cls_token", Init.Normal([1, 1, c.Dim], 0.02, g));
        PositionEmbedding = RegisterParameter("position_embedding", Init.Normal([c.Image.PatchCount + 1, c.Dim], 0.02, g));
        MaskToken = RegisterParameter("mask_token", Init.Normal([c.Dim], 0.02, g));
        Encoder = RegisterModule("encoder", new EncoderStack(c.Image.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public Linear PatchEmbedding { get; }
    public Tensor ClsToken { get; }
    public Tensor PositionEmbedding { get; }
    public Tensor MaskToken { get; }
    public EncoderStack Encoder { get; }

    /// <param name="images">(B, C, H, W) float32</param>
    /// <param name="patchMask">(B, N) bool, true where a patch is masked; null for the clean image</param>
    /// <returns>(B, N + 1, d): [CLS] then the N patches</returns>
    public Tensor Forward(Tensor images, Tensor? patchMask, int depth)
    {
        using var scope = DisposeScope.Open();
        long b = images.Size(0);
        var x = PatchEmbedding.Forward(Patchify(images));                          // (B, N, d)
        if (patchMask is not null) x = Torch.Torch.Where(patchMask.Unsqueeze(-1), MaskToken, x);
        var cls = ClsToken.Expand(b, 1, ClsToken.Size(2));                         // (B, 1, d)
        x = Torch.Torch.Cat([cls, x], 1) + PositionEmbedding;                      // (B, N + 1, d)
        return scope.MoveToOuter(Encoder.Forward(x, null, depth));
    }

    /// <summary>(B, C, H, W) → (B, N, C·p·p), patches in row-major order.</summary>
    public Tensor Patchify(Tensor images)
    {
        long[] s = images.Shape;
        int p = _image.Patch;
        if (s.Length != 4 || s[1] != _image.Channels || s[2] != _image.Size || s[3] != _image.Size)
            throw new ArgumentException($"images must be (batch, {_image.Channels}, {_image.Size}, {_image.Size}); got {Tensor.FormatShape(s)}");
        using var scope = DisposeScope.Open();
        long rows = s[2] / p, cols = s[3] / p;
        var patches = images.View(s[0], s[1], rows, p, cols, p)                   // (B, C, H/p, p, W/p, p)
            .Permute(0, 2, 4, 1, 3, 5)                                             // (B, H/p, W/p, C, p, p)
            .Reshape(s[0], rows * cols, s[1] * p * p);                             // (B, N, C·p·p)
        return scope.MoveToOuter(patches);
    }
}
