namespace CommerceMM.Model.Evaluation;

/// <summary>Training settings of the linear (logistic-regression) probe; defaults suit a few thousand 128-d embeddings.</summary>
public sealed record ProbeOptions
{
    /// <value>Passes over the probe's training items. Default 30.</value>
    public int Epochs { get; init; } = 30;
    /// <value>Rows per AdamW step. Default 256.</value>
    public int BatchSize { get; init; } = 256;
    /// <value>Constant learning rate: the problem is convex and small. Default 0.01.</value>
    public double LearningRate { get; init; } = 0.01;
    /// <value>Decoupled weight decay on the weight matrix. Default 1e-4.</value>
    public double WeightDecay { get; init; } = 1e-4;
    /// <value>Seeds the minibatch order (the weights start at zero). Default 1.</value>
    public ulong Seed { get; init; } = 1;

    public ProbeOptions Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"probe {nameof(Epochs)} must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new ArgumentException($"probe {nameof(BatchSize)} must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0)) throw new ArgumentException($"probe {nameof(LearningRate)} must be > 0, got {LearningRate}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"probe {nameof(WeightDecay)} must be >= 0, got {WeightDecay}");
        return this;
    }
}
