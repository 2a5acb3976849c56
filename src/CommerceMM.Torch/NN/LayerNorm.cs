namespace CommerceMM.Torch.NN;

/// <summary>Layer normalisation over the last dimension, with learned scale (ones) and shift (zeros).</summary>
public sealed class LayerNorm : Module
{
    private readonly long[] _shape;

    public LayerNorm(long features, double eps = 1e-5)
    {
        _shape = [features];
        Eps = eps;
        Weight = RegisterParameter("weight", Torch.Ones(_shape));
        Bias = RegisterParameter("bias", Torch.Zeros(_shape));
    }

    public double Eps { get; }
    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public Tensor Forward(Tensor x) => Functional.LayerNorm(x, _shape, Weight, Bias, Eps);
}
