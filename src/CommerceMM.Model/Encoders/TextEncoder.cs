using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.Encoders;

/// <summary>Token + learned position embeddings into a transformer; position 0 is [CLS] (MODEL.md §2).</summary>
public sealed class TextEncoder : ExplicitModule
{
    public TextEncoder(CommerceMMConfig c, Generator g, Generator dropout) : base(nameof(TextEncoder))
    {
        // BERT's N(0, 0.02) for embeddings; the MLM head reuses TokenEmbedding as its decoder.
        TokenEmbedding = AddModule("token_embedding", Layers.Embedding(c.Text.VocabSize, c.Dim, std: 0.02, g));
        PositionEmbedding = AddModule("position_embedding", Layers.Embedding(c.Text.MaxLength, c.Dim, std: 0.02, g));
        Encoder = AddModule("encoder", new EncoderStack(c.Text.Layers, c.Dim, c.Heads, c.FfnDim, c.Dropout, g, dropout));
    }

    public EmbeddingTable TokenEmbedding { get; }
    public EmbeddingTable PositionEmbedding { get; }
    public EncoderStack Encoder { get; }

    /// <param name="ids">(B, L) int64</param>
    /// <param name="padding">(B, L) bool, true at padding</param>
    /// <returns>(B, L, d)</returns>
    public Tensor Forward(Tensor ids, Tensor padding, int depth)
    {
        using var scope = torch.NewDisposeScope();
        var positions = HeldScalars.Arange(ids.size(1), ids.device);                    // (L)
        var x = TokenEmbedding.Forward(ids).Add(PositionEmbedding.Forward(positions));  // (B, L, d)
        return Encoder.Forward(x, padding, depth).MoveToOuterDisposeScope();
    }
}
