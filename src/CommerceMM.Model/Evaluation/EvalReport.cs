namespace CommerceMM.Model.Evaluation;

/// <summary>One retrieval direction: Recall@K for each cut-off, beside what a random ranking scores.</summary>
/// <param name="Task">stable id, e.g. "query_to_product"</param>
/// <param name="Scores">which embeddings are compared, e.g. "s_t·e_m"</param>
public sealed record RecallRow(string Task, string Scores, int Queries, int Gallery, IReadOnlyList<double> Recall, IReadOnlyList<double> Random)
{
    /// <summary>Recall@1 as a multiple of random Recall@1.</summary>
    public double TimesRandomAt1 => Recall[0] / Random[0];
}

/// <summary>Linear-probe categorisation accuracy on one embedding, beside always guessing the majority class.</summary>
public sealed record ProbeRow(string Embedding, int TrainItems, int TestItems, double Accuracy, double Majority);

/// <summary>What one embedding costs per item: analytic forward FLOPs and measured latency (median over repeats, at a batch size).</summary>
public sealed record CostRow(string Embedding, double ForwardFlopsPerItem, double LatencyMsPerItem, int LatencyBatch, int Repeats);

/// <summary>The §7 table of one modality-randomization allocation.</summary>
public sealed record AllocationResult(
    string Allocation, int TextLayers, int ImageLayers, int FusionLayers, bool FullDepth,
    IReadOnlyList<RecallRow> Retrieval, IReadOnlyList<ProbeRow> Categorisation, IReadOnlyList<CostRow> Cost, double Seconds);

/// <summary>All tables of one evaluation, full depth first.</summary>
public sealed record EvalReport(IReadOnlyList<int> Ks, int GalleryItems, int QueryItems, int PhotoItems, int ProbeTrainItems, IReadOnlyList<AllocationResult> Allocations);
