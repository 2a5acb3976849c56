using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Scale.Encoders;

/// <summary>BERT's MLM head: dense + GELU + LayerNorm, then a decoder tied to the shared word embedding plus a bias.</summary>
public sealed class VocabHead : Module
{
    private readonly Embedding _tied;

    public VocabHead(Embedding words, int dim, Generator g)
    {
        _tied = words;
        Dense = RegisterModule("dense", new Linear(dim, dim, generator: g));
        Norm = RegisterModule("norm", new LayerNorm(dim));
        Bias = RegisterParameter("bias", Torch.Torch.Zeros([words.Weight.Size(0)]));
    }

    public Linear Dense { get; }
    public LayerNorm Norm { get; }
    public Tensor Bias { get; }

    /// <param name="hidden">(S, d)</param>
    /// <returns>(S, vocab) logits</returns>
    public Tensor Forward(Tensor hidden)
    {
        using var scope = DisposeScope.Open();
        var h = Norm.Forward(Dense.Forward(hidden).Gelu());
        return scope.MoveToOuter(Functional.Linear(h, _tied.Weight, Bias));
    }
}
