namespace CommerceMM.Torch.NN;

/// <summary>A lookup table of learned vectors, indexed by int64 ids.</summary>
public sealed class Embedding : Module
{
    public Embedding(long count, long dim, double std = 1.0, Generator? generator = null)
    {
        Weight = RegisterParameter("weight", Init.Normal([count, dim], std, generator));
    }

    public Tensor Weight { get; }

    public Tensor Forward(Tensor ids) => Functional.Embedding(Weight, ids);
}
