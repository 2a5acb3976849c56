using CommerceMM.Model.Config;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model.Encoders;

/// <summary>BERT's MLM head: dense + GELU + LayerNorm, then a decoder tied to the word embeddings plus a bias.</summary>
public sealed class MlmHead : Module
{
    private readonly Embedding _tiedEmbedding;

    public MlmHead(CommerceMMConfig c, Embedding wordEmbedding, Generator g)
    {
        _tiedEmbedding = wordEmbedding;
        Dense = RegisterModule("dense", new Linear(c.Dim, c.Dim, generator: g));
        Norm = RegisterModule("norm", new LayerNorm(c.Dim));
        Bias = RegisterParameter("bias", Torch.Torch.Zeros([c.Text.VocabSize]));
    }

    public Linear Dense { get; }
    public LayerNorm Norm { get; }
    public Tensor Bias { get; }

    /// <param name="hidden">(S, d) features at the selected positions</param>
    /// <returns>(S, vocab) logits</returns>
    public Tensor Forward(Tensor hidden)
    {
        using var scope = DisposeScope.Open();
        var h = Norm.Forward(Dense.Forward(hidden).Gelu());
        return scope.MoveToOuter(Functional.Linear(h, _tiedEmbedding.Weight, Bias));
    }
}
