using CommerceMM.Model.Config;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// Transformer layers over [text tokens ; image tokens], each side marked with a learned
/// modality-type embedding. The multimodal embedding reads position 0, the text [CLS] (MODEL.md §2).
/// </summary>
public sealed class FusionEncoder : Module
{
    public FusionEncoder(CommerceMMConfig c, Generator g, Generator dropout)
    {
        TypeEmbedding = RegisterModule("type_embedding", new Embedding(2, c.Dim, std: 0.02, generator: g));
        Encoder = RegisterModule("encoder", new EncoderStack(c.FusionLayers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public Embedding TypeEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="text">(B, Lt, d) text encoder output</param>
    /// <param name="textPadding">(B, Lt) bool</param>
    /// <param name="image">(B, Li, d) image encoder output</param>
    /// <returns>(B, Lt + Li, d)</returns>
    public Tensor Forward(Tensor text, Tensor textPadding, Tensor image, int depth)
    {
        using var scope = DisposeScope.Open();
        var types = Torch.Torch.FromArray(new long[] { 0, 1 });
        var typeVectors = TypeEmbedding.Forward(types);                              // (2, d)
        var x = Torch.Torch.Cat([text + typeVectors.Select(0, 0), image + typeVectors.Select(0, 1)], 1);
        var imagePadding = Torch.Torch.Zeros([image.Size(0), image.Size(1)], DType.Bool);
        var padding = Torch.Torch.Cat([textPadding, imagePadding], 1);               // (B, Lt + Li)
        return scope.MoveToOuter(Encoder.Forward(x, padding, depth));
    }
}
