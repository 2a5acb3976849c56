using CommerceMM.Model.Encoders;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Encoders;

/// <summary>
/// Token ids → shared word embedding + own learned positions → transformer layers. Text and table use
/// one vocabulary (the data set's tokenizer), so they share the word embedding; position 0 is [CLS].
/// </summary>
public sealed class TokenEncoder : ExplicitModule
{
    // Registered by the model (as word_embedding), not here: held only to look ids up.
    private readonly EmbeddingTable _words;

    public TokenEncoder(EmbeddingTable words, int maxLength, int layers, int dim, int heads, int ffnDim, double dropout, Generator g, Generator dropoutGenerator)
        : base(nameof(TokenEncoder))
    {
        _words = words;
        MaxLength = maxLength;
        PositionEmbedding = AddModule("position_embedding", Layers.Embedding(maxLength, dim, std: 0.02, generator: g));
        Encoder = AddModule("encoder", new EncoderStack(layers, dim, heads, ffnDim, dropout, g, dropoutGenerator));
    }

    public int MaxLength { get; }
    public EmbeddingTable PositionEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="ids">(B, L) int64, L ≤ MaxLength</param>
    /// <param name="padding">(B, L) bool, true at padding</param>
    /// <returns>(B, L, d) and the padding actually used: position 0 is never padded, so a missing
    /// (all-padding) row still has one key and stays finite; its output is masked out later</returns>
    public (Tensor Tokens, Tensor Padding) Forward(Tensor ids, Tensor padding)
    {
        long[] s = ids.shape;
        if (s.Length != 2 || s[1] < 1 || s[1] > MaxLength || !padding.shape.SequenceEqual(s))
            throw new ArgumentException($"ids and padding must be (batch, 1..{MaxLength}); got {TensorMemory.FormatShape(s)} and {TensorMemory.FormatShape(padding.shape)}");
        using var scope = NewDisposeScope();
        var positions = HeldScalars.Arange(s[1], ids.device);                           // (L)
        var x = _words.Forward(ids).Add(PositionEmbedding.Forward(positions));         // (B, L, d)
        var first = positions.Eq(0).unsqueeze(0);                                      // (1, L)
        var used = padding.logical_and(first.logical_not());                           // (B, L)
        var tokens = Encoder.Forward(x, used, Encoder.Layers.Count);
        return (tokens.MoveToOuterDisposeScope(), used.MoveToOuterDisposeScope());
    }
}
