using CommerceMM.Model.Encoders;
using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Encoders;

/// <summary>
/// The joint transformer over the concatenation of every encoded modality, each marked with a learned
/// modality-type embedding. A modality a sample lacks is blocked as a key for every query of that
/// sample, so it contributes nothing: not even as zeros (the official SCALE code attends to the zeros).
/// </summary>
public sealed class ScaleFusionEncoder : ExplicitModule
{
    public ScaleFusionEncoder(ScaleConfig c, Generator g, Generator dropout) : base(nameof(ScaleFusionEncoder))
    {
        TypeEmbedding = AddModule("type_embedding", Layers.Embedding(ScaleModalities.Count, c.Dim, std: 0.02, generator: g));
        Encoder = AddModule("encoder", new EncoderStack(c.FusionLayers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public EmbeddingTable TypeEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="parts">each modality's encoder output (B, L_m, d) and padding (B, L_m)</param>
    /// <param name="present">(B, 5) bool: the sample has the modality</param>
    /// <returns>each modality's slice of the fused output, (B, L_m, d), in the order given</returns>
    public IReadOnlyList<Tensor> Forward(IReadOnlyList<(ScaleModality Modality, Tensor Tokens, Tensor Padding)> parts, Tensor present)
    {
        using var scope = NewDisposeScope();
        var types = TypeEmbedding.Forward(HeldScalars.Arange(ScaleModalities.Count, present.device)); // (5, d)
        var tokens = new List<Tensor>();
        var blocked = new List<Tensor>();
        foreach (var (m, x, padding) in parts)
        {
            tokens.Add(x.Add(types.select(0, (long)m)));
            var missing = present.select(1, (long)m).logical_not().unsqueeze(1);          // (B, 1)
            blocked.Add(padding.logical_or(missing));                                    // (B, L_m)
        }
        var fused = Encoder.Forward(cat(tokens, 1), cat(blocked, 1), Encoder.Layers.Count);
        var slices = new List<Tensor>();
        long start = 0;
        foreach (var (_, x, _) in parts)
        {
            long length = x.size(1);
            slices.Add(fused.narrow(1, start, length).MoveToOuterDisposeScope());
            start += length;
        }
        return slices;
    }
}
