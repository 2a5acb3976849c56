using CommerceMM.Model.Encoders;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Scale.Encoders;

/// <summary>
/// One token per feature vector (image patch, pooled video frame, log-mel audio frame): a linear
/// projection, a learned [CLS] and positions, transformer layers. Masked positions are replaced by a
/// learned mask embedding before the positions are added (BEiT-style), so regression targets stay hidden.
/// </summary>
public sealed class FeatureEncoder : Module
{
    public FeatureEncoder(int features, int maxTokens, int layers, int dim, int heads, int ffnDim, double dropout, Generator g, Generator dropoutGenerator)
    {
        Features = features;
        MaxTokens = maxTokens;
        Projection = RegisterModule("projection", new Linear(features, dim, generator: g));
        ClsToken = RegisterParameter("cls_token", Init.Normal([1, 1, dim], 0.02, g));
        PositionEmbedding = RegisterParameter("position_embedding", Init.Normal([maxTokens + 1, dim], 0.02, g));
        MaskToken = RegisterParameter("mask_token", Init.Normal([dim], 0.02, g));
        Encoder = RegisterModule("encoder", new EncoderStack(layers, dim, heads, ffnDim, dropout, g, dropoutGenerator));
    }

    public int Features { get; }
    public int MaxTokens { get; }
    public Linear Projection { get; }
    public Tensor ClsToken { get; }
    public Tensor PositionEmbedding { get; }
    public Tensor MaskToken { get; }
    public EncoderStack Encoder { get; }

    /// <param name="features">(B, N, F) with N ≤ MaxTokens</param>
    /// <param name="padding">(B, N) bool, true at padding; null when every position is real</param>
    /// <param name="mask">(B, N) bool, true where the input is hidden behind the mask embedding; null for none</param>
    /// <returns>(B, N + 1, d) ([CLS] first) and its padding (B, N + 1), [CLS] never padded</returns>
    public (Tensor Tokens, Tensor Padding) Forward(Tensor features, Tensor? padding, Tensor? mask)
    {
        long[] s = features.Shape;
        if (s.Length != 3 || s[2] != Features || s[1] < 1 || s[1] > MaxTokens)
            throw new ArgumentException($"features must be (batch, 1..{MaxTokens}, {Features}); got {Tensor.FormatShape(s)}");
        using var scope = DisposeScope.Open();
        long b = s[0], n = s[1];
        var x = Projection.Forward(features);                                          // (B, N, d)
        if (mask is not null) x = Torch.Torch.Where(mask.Unsqueeze(-1), MaskToken, x);
        var cls = ClsToken.Expand(b, 1, ClsToken.Size(2));                             // (B, 1, d)
        x = Torch.Torch.Cat([cls, x], 1) + PositionEmbedding.Slice(0, 0, n + 1);       // (B, N + 1, d)
        var clsPadding = Torch.Torch.Zeros([b, 1], DType.Bool);
        var full = Torch.Torch.Cat([clsPadding, padding ?? Torch.Torch.Zeros([b, n], DType.Bool)], 1); // (B, N + 1)
        var tokens = Encoder.Forward(x, full, Encoder.Layers.Count);
        return (scope.MoveToOuter(tokens), scope.MoveToOuter(full));
    }
}
