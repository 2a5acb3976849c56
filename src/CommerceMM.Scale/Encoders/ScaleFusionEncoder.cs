using CommerceMM.Model.Encoders;
using CommerceMM.Scale.Config;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Scale.Encoders;

/// <summary>
/// The joint transformer over the concatenation of every encoded modality, each marked with a learned
/// modality-type embedding. A modality a sample lacks is blocked as a key for every query of that
/// sample, so it contributes nothing: not even as zeros (the official SCALE code attends to the zeros).
/// </summary>
public sealed class ScaleFusionEncoder : Module
{
    public ScaleFusionEncoder(ScaleConfig c, Generator g, Generator dropout)
    {
        TypeEmbedding = RegisterModule("type_embedding", new Embedding(ScaleModalities.Count, c.Dim, std: 0.02, generator: g));
        Encoder = RegisterModule("encoder", new EncoderStack(c.FusionLayers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public Embedding TypeEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="parts">each modality's encoder output (B, L_m, d) and padding (B, L_m)</param>
    /// <param name="present">(B, 5) bool: the sample has the modality</param>
    /// <returns>each modality's slice of the fused output, (B, L_m, d), in the order given</returns>
    public IReadOnlyList<Tensor> Forward(IReadOnlyList<(ScaleModality Modality, Tensor Tokens, Tensor Padding)> parts, Tensor present)
    {
        using var scope = DisposeScope.Open();
        var types = TypeEmbedding.Forward(Torch.Torch.Arange(ScaleModalities.Count));  // (5, d)
        var tokens = new List<Tensor>();
        var blocked = new List<Tensor>();
        foreach (var (m, x, padding) in parts)
        {
            tokens.Add(x + types.Select(0, (long)m));
            var missing = present.Select(1, (long)m).LogicalNot().Unsqueeze(1);           // (B, 1)
            blocked.Add(padding.LogicalOr(missing));                                     // (B, L_m)
        }
        var fused = Encoder.Forward(Torch.Torch.Cat(tokens, 1), Torch.Torch.Cat(blocked, 1), Encoder.Layers.Count);
        var slices = new List<Tensor>();
        long start = 0;
        foreach (var (_, x, _) in parts)
        {
            long length = x.Size(1);
            slices.Add(scope.MoveToOuter(fused.Slice(1, start, start + length)));
            start += length;
        }
        return slices;
    }
}
