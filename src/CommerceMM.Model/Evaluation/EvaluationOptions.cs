using CommerceMM.Model.Config;

namespace CommerceMM.Model.Evaluation;

/// <summary>What <see cref="Evaluator"/> measures and how.</summary>
public sealed record EvaluationOptions
{
    /// <value>Recall cut-offs. Default 1, 5, 10 (MODEL.md §7).</value>
    public IReadOnlyList<int> Ks { get; init; } = [1, 5, 10];

    /// <value>Allocations to evaluate; null = every allocation of the config, full depth first. Default null.</value>
    public IReadOnlyList<Allocation>? Allocations { get; init; }

    /// <value>Rows per embedding forward. Default 256.</value>
    public int EmbedBatchSize { get; init; } = 256;

    /// <value>Rows per timed forward; latency is reported per item at this batch size. Default 32 (the training batch).</value>
    public int LatencyBatchSize { get; init; } = 32;

    /// <value>Timed forwards per embedding kind after one warm-up; the median is reported. Default 9: on a shared 2-core box single forwards vary by 2×.</value>
    public int LatencyRepeats { get; init; } = 9;

    public ProbeOptions Probe { get; init; } = new();

    public EvaluationOptions Validate()
    {
        if (Ks.Count == 0 || Ks.Any(k => k < 1)) throw new ArgumentException($"{nameof(Ks)} must be one or more cut-offs >= 1");
        if (EmbedBatchSize < 1) throw new ArgumentException($"{nameof(EmbedBatchSize)} must be at least 1, got {EmbedBatchSize}");
        if (LatencyBatchSize < 1) throw new ArgumentException($"{nameof(LatencyBatchSize)} must be at least 1, got {LatencyBatchSize}");
        if (LatencyRepeats < 1) throw new ArgumentException($"{nameof(LatencyRepeats)} must be at least 1, got {LatencyRepeats}");
        Probe.Validate();
        return this;
    }
}
