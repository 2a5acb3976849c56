namespace CommerceMM.Torch.NN;

/// <summary>Inverted dropout, active only in training mode, with masks drawn from an explicit generator.</summary>
public sealed class Dropout : Module
{
    private readonly Generator? _generator;

    /// <param name="generator">draws the masks for this module's lifetime: keep it alive as long as the module</param>
    public Dropout(double p, Generator? generator = null)
    {
        if (p is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        P = p;
        _generator = generator;
    }

    public double P { get; }

    public Tensor Forward(Tensor x) => Functional.Dropout(x, P, Training, _generator);
}
