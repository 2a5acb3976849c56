using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// BERT's MLM head: dense + GELU + LayerNorm, then a decoder tied to the word embeddings plus a bias.
/// CommerceMM's MLM and SCALE's text and table heads.
/// </summary>
public sealed class MlmHead : Module
{
    private readonly Embedding _tiedEmbedding;

    public MlmHead(Embedding wordEmbedding, int dim, Generator g)
    {
        _tiedEmbedding = wordEmbedding;
        Dense = RegisterModule("dense", new Linear(dim, dim, generator: g));
        Norm = RegisterModule("norm", new LayerNorm(dim));
        Bias = RegisterParameter("bias", Torch.Torch.Zeros([wordEmbedding.Weight.Size(0)]));
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
