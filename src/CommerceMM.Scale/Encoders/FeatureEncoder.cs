using CommerceMM.Model.Encoders;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Encoders;

/// <summary>
/// One token per feature vector (image patch, pooled video frame, log-mel audio frame): a linear
/// projection, a learned [CLS] and positions, transformer layers. Masked positions are replaced by a
/// learned mask embedding before the positions are added (BEiT-style), so regression targets stay hidden.
/// </summary>
public sealed class FeatureEncoder : ExplicitModule
{
    // Fields named as registered: module.to(device) replaces the parameter objects and updates these.
    [ComponentName(Name = "cls_token")] private Parameter _clsToken;
    [ComponentName(Name = "position_embedding")] private Parameter _positionEmbedding;
    [ComponentName(Name = "mask_token")] private Parameter _maskToken;

    public FeatureEncoder(int features, int maxTokens, int layers, int dim, int heads, int ffnDim, double dropout, Generator g, Generator dropoutGenerator)
        : base(nameof(FeatureEncoder))
    {
        Features = features;
        MaxTokens = maxTokens;
        Projection = AddModule("projection", Layers.Linear(features, dim, g));
        _clsToken = AddParameter("cls_token", Init.Normal([1, 1, dim], 0.02, g));
        _positionEmbedding = AddParameter("position_embedding", Init.Normal([maxTokens + 1, dim], 0.02, g));
        _maskToken = AddParameter("mask_token", Init.Normal([dim], 0.02, g));
        Encoder = AddModule("encoder", new EncoderStack(layers, dim, heads, ffnDim, dropout, g, dropoutGenerator));
    }

    public int Features { get; }
    public int MaxTokens { get; }
    public Linear Projection { get; }
    public Parameter ClsToken => _clsToken;
    public Parameter PositionEmbedding => _positionEmbedding;
    public Parameter MaskToken => _maskToken;
    public EncoderStack Encoder { get; }

    /// <param name="features">(B, N, F) with N ≤ MaxTokens</param>
    /// <param name="padding">(B, N) bool, true at padding; null when every position is real</param>
    /// <param name="mask">(B, N) bool, true where the input is hidden behind the mask embedding; null for none</param>
    /// <returns>(B, N + 1, d) ([CLS] first) and its padding (B, N + 1), [CLS] never padded</returns>
    public (Tensor Tokens, Tensor Padding) Forward(Tensor features, Tensor? padding, Tensor? mask)
    {
        long[] s = features.shape;
        if (s.Length != 3 || s[2] != Features || s[1] < 1 || s[1] > MaxTokens)
            throw new ArgumentException($"features must be (batch, 1..{MaxTokens}, {Features}); got {TensorMemory.FormatShape(s)}");
        using var scope = NewDisposeScope();
        long b = s[0], n = s[1];
        var device = features.device;
        var x = MixedPrecision.Float(MixedPrecision.Linear(Projection, features));    // (B, N, d) fp32
        if (mask is not null) x = where(mask.unsqueeze(-1), MaskToken, x);
        var cls = ClsToken.expand(b, 1, ClsToken.size(2));                             // (B, 1, d)
        x = cat([cls, x], 1).Add(PositionEmbedding.narrow(0, 0, n + 1));               // (B, N + 1, d)
        var clsPadding = zeros(b, 1, dtype: ScalarType.Bool, device: device);
        var full = cat([clsPadding, padding ?? zeros(b, n, dtype: ScalarType.Bool, device: device)], 1); // (B, N + 1)
        var tokens = Encoder.Forward(x, full, Encoder.Layers.Count);
        return (tokens.MoveToOuterDisposeScope(), full.MoveToOuterDisposeScope());
    }
}
