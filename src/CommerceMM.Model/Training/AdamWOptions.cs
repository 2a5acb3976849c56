namespace CommerceMM.Model.Training;

/// <summary>AdamW hyper-parameters; defaults are PyTorch's.</summary>
public sealed record AdamWOptions
{
    public const double DefaultBeta1 = 0.9;
    public const double DefaultBeta2 = 0.999;
    public const double DefaultEps = 1e-8;
    public const double DefaultWeightDecay = 0.01;

    /// <value>Default 0.9.</value>
    public double Beta1 { get; init; } = DefaultBeta1;

    /// <value>Default 0.999.</value>
    public double Beta2 { get; init; } = DefaultBeta2;

    /// <value>Default 1e-8.</value>
    public double Eps { get; init; } = DefaultEps;

    /// <value>Default 0.01. Decoupled (multiplies the weight, not the gradient); never applied to biases and norms.</value>
    public double WeightDecay { get; init; } = DefaultWeightDecay;

    public void Validate()
    {
        if (Beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "must be in [0, 1)");
        if (Beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "must be in [0, 1)");
        if (Eps <= 0) throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "must be > 0");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "must be >= 0");
    }
}
