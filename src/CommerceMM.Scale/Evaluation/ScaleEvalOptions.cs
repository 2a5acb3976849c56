using CommerceMM.Model.Evaluation;

namespace CommerceMM.Scale.Evaluation;

/// <summary>What <see cref="ScaleEvaluator"/> measures and on how many products.</summary>
public sealed record ScaleEvalOptions
{
    /// <value>Rows to evaluate; null = one row with exactly the modalities the model's config enables.
    /// <see cref="ModalitySet.PaperAblation"/> gives the inference-time ablation of one model. Default null.</value>
    public IReadOnlyList<ModalitySet>? Rows { get; init; }

    /// <value>Precision@K cut-offs. Default 1, 5, 10 (MODEL.md §8).</value>
    public IReadOnlyList<int> Ks { get; init; } = [1, 5, 10];

    /// <value>Held-out products (the first ones of <c>eval_products</c>) split into queries and gallery; null = all. Default null.</value>
    public int? EvalLimit { get; init; }

    /// <value>Training products (the first ones of <c>products</c>) the linear probe learns from; null = all. Default 5000.</value>
    public int? ProbeTrainLimit { get; init; } = 5000;

    /// <value>Products per embedding forward. Default 64.</value>
    public int BatchSize { get; init; } = 64;

    /// <value>The linear probe's training settings (CommerceMM's).</value>
    public ProbeOptions Probe { get; init; } = new();

    /// <value>Seeds the random embeddings of the retrieval baseline. Default 1.</value>
    public ulong RandomSeed { get; init; } = 1;

    /// <exception cref="ArgumentException">Names the first bad option.</exception>
    public ScaleEvalOptions Validate()
    {
        if (Rows is { Count: 0 }) throw new ArgumentException($"{nameof(Rows)} is empty: give at least one modality set, or null for the model's own");
        if (Ks.Count == 0 || Ks.Any(k => k < 1)) throw new ArgumentException($"{nameof(Ks)} must be one or more cut-offs >= 1, got [{string.Join(", ", Ks)}]");
        if (EvalLimit is < 2) throw new ArgumentException($"{nameof(EvalLimit)} must be at least 2 (a query and a gallery item), got {EvalLimit}");
        if (ProbeTrainLimit is < 1) throw new ArgumentException($"{nameof(ProbeTrainLimit)} must be at least 1, got {ProbeTrainLimit}");
        if (BatchSize < 1) throw new ArgumentException($"{nameof(BatchSize)} must be at least 1, got {BatchSize}");
        Probe.Validate();
        return this;
    }
}
