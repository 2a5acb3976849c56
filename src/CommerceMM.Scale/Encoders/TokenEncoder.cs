using CommerceMM.Model.Encoders;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Scale.Encoders;

/// <summary>
/// Token ids → shared word embedding + own learned positions → transformer layers. Text and table use
/// one vocabulary (the data set's tokenizer), so they share the word embedding; position 0 is [CLS].
/// </summary>
public sealed class TokenEncoder : Module
{
    private readonly Embedding _words;

    public TokenEncoder(Embedding words, int maxLength, int layers, int dim, int heads, int ffnDim, double dropout, Generator g, Generator dropoutGenerator)
    {
        _words = words;
        MaxLength = maxLength;
        PositionEmbedding = RegisterModule("position_embedding", new Embedding(maxLength, dim, std: 0.02, generator: g));
        Encoder = RegisterModule("encoder", new EncoderStack(layers, dim, heads, ffnDim, dropout, g, dropoutGenerator));
    }

    public int MaxLength { get; }
    public Embedding PositionEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="ids">(B, L) int64, L ≤ MaxLength</param>
    /// <param name="padding">(B, L) bool, true at padding</param>
    /// <returns>(B, L, d) and the padding actually used: position 0 is never padded, so a missing
    /// (all-padding) row still has one key and stays finite; its output is masked out later</returns>
    public (Tensor Tokens, Tensor Padding) Forward(Tensor ids, Tensor padding)
    {
        long[] s = ids.Shape;
        if (s.Length != 2 || s[1] < 1 || s[1] > MaxLength || !padding.Shape.SequenceEqual(s))
            throw new ArgumentException($"ids and padding must be (batch, 1..{MaxLength}); got {Tensor.FormatShape(s)} and {Tensor.FormatShape(padding.Shape)}");
        using var scope = DisposeScope.Open();
        var positions = Torch.Torch.Arange(s[1]);                                      // (L)
        var x = _words.Forward(ids) + PositionEmbedding.Forward(positions);            // (B, L, d)
        var first = Torch.Torch.Arange(s[1]).Eq(0).Unsqueeze(0);                       // (1, L)
        var used = padding.LogicalAnd(first.LogicalNot());                             // (B, L)
        var tokens = Encoder.Forward(x, used, Encoder.Layers.Count);
        return (scope.MoveToOuter(tokens), scope.MoveToOuter(used));
    }
}
