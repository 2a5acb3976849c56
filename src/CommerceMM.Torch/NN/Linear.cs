namespace CommerceMM.Torch.NN;

/// <summary>y = x·Wᵀ + b, with W of shape (out, in) as in PyTorch.</summary>
public sealed class Linear : Module
{
    public Linear(long inFeatures, long outFeatures, bool bias = true, Generator? generator = null)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Init.LinearUniform([outFeatures, inFeatures], inFeatures, generator));
        if (bias) Bias = RegisterParameter("bias", Init.LinearUniform([outFeatures], inFeatures, generator));
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public Tensor Forward(Tensor x) => Functional.Linear(x, Weight, Bias);
}
