using CommerceMM.Model.Config;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model.Encoders;

/// <summary>Token + learned position embeddings into a transformer; position 0 is [CLS] (MODEL.md §2).</summary>
public sealed class TextEncoder : Module
{
    public TextEncoder(CommerceMMConfig c, Generator g, Generator dropout)
    {
        // BERT's N(0, 0.02) for embeddings; the MLM head reuses TokenEmbedding as its decoder.
        TokenEmbedding = RegisterModule("token_embedding", new Embedding(c.Text.VocabSize, c.Dim, std: 0.02, generator: g));
        PositionEmbedding = RegisterModule("position_embedding", new Embedding(c.Text.MaxLength, c.Dim, std: 0.02, generator: g));
        Encoder = RegisterModule("encoder", new EncoderStack(c.Text.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public Embedding TokenEmbedding { get; }
    public Embedding PositionEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="ids">(B, L) int64</param>
    /// <param name="padding">(B, L) bool, true at padding</param>
    /// <returns>(B, L, d)</returns>
    public Tensor Forward(Tensor ids, Tensor padding, int depth)
    {
        using var scope = DisposeScope.Open();
        var positions = Torch.Torch.Arange(ids.Size(1));                       // (L)
        var x = TokenEmbedding.Forward(ids) + PositionEmbedding.Forward(positions); // (B, L, d)
        return scope.MoveToOuter(Encoder.Forward(x, padding, depth));
    }
}
