using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// Transformer layers over [text tokens ; image tokens], each side marked with a learned
/// modality-type embedding. The multimodal embedding reads position 0, the text [CLS] (MODEL.md §2).
/// </summary>
public sealed class FusionEncoder : ExplicitModule
{
    public FusionEncoder(CommerceMMConfig c, Generator g, Generator dropout) : base(nameof(FusionEncoder))
    {
        TypeEmbedding = AddModule("type_embedding", Layers.Embedding(2, c.Dim, std: 0.02, g));
        Encoder = AddModule("encoder", new EncoderStack(c.FusionLayers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public EmbeddingTable TypeEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="text">(B, Lt, d) text encoder output</param>
    /// <param name="textPadding">(B, Lt) bool</param>
    /// <param name="image">(B, Li, d) image encoder output</param>
    /// <returns>(B, Lt + Li, d)</returns>
    public Tensor Forward(Tensor text, Tensor textPadding, Tensor image, int depth)
    {
        using var scope = torch.NewDisposeScope();
        var types = HeldScalars.Arange(2, text.device);                              // 0 text, 1 image
        var typeVectors = TypeEmbedding.Forward(types);                              // (2, d)
        var x = torch.cat([text.Add(typeVectors.select(0, 0)), image.Add(typeVectors.select(0, 1))], 1);
        var imagePadding = torch.zeros([image.size(0), image.size(1)], ScalarType.Bool, textPadding.device);
        var padding = torch.cat([textPadding, imagePadding], 1);                     // (B, Lt + Li)
        return Encoder.Forward(x, padding, depth).MoveToOuterDisposeScope();
    }
}
