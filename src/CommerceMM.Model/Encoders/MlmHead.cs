using CommerceMM.Model.NN;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// BERT's MLM head: dense + GELU + LayerNorm, then a decoder tied to the word embeddings plus a bias.
/// CommerceMM's MLM and SCALE's text and table heads.
/// </summary>
public sealed class MlmHead : ExplicitModule
{
    private readonly EmbeddingTable _tiedEmbedding;   // registered by its owner, not here
    [ComponentName(Name = "bias")] private Parameter _bias;

    public MlmHead(EmbeddingTable wordEmbedding, int dim, Generator g) : base(nameof(MlmHead))
    {
        _tiedEmbedding = wordEmbedding;
        long vocab = wordEmbedding.Count;
        Dense = AddModule("dense", Layers.Linear(dim, dim, g));
        Norm = AddModule("norm", Layers.LayerNorm(dim));
        _bias = AddParameter("bias", torch.zeros(vocab, device: torch.CPU));
    }

    public Linear Dense { get; }
    public LayerNorm Norm { get; }
    public Parameter Bias => _bias;

    /// <param name="hidden">(S, d) features at the selected positions</param>
    /// <returns>(S, vocab) logits, fp32</returns>
    public Tensor Forward(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var h = Norm.forward(Dense.forward(hidden).gelu());
        return torch.nn.functional.linear(h, _tiedEmbedding.Weight, _bias).MoveToOuterDisposeScope();
    }
}
