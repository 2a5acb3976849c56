using CommerceMM.Model.Evaluation;

namespace CommerceMM.Scale.Evaluation;

/// <summary>One evaluated modality set of one model.</summary>
/// <param name="Label">the row's name in the table</param>
/// <param name="Modalities">modality names summed into each product's embedding</param>
/// <param name="HeldOutProducts">held-out products read</param>
/// <param name="ProductsWithoutModality">held-out products having none of <paramref name="Modalities"/>: no embedding, left out</param>
/// <param name="Retrieval">the model's embeddings</param>
/// <param name="RandomEmbeddings">seeded Gaussian embeddings for the same queries and gallery (a measured chance level)</param>
/// <param name="Categorisation">linear probe on the same embeddings, beside the majority class</param>
public sealed record ScaleEvalResult(
    string Label, IReadOnlyList<string> Modalities, int HeldOutProducts, int ProductsWithoutModality,
    RetrievalScores Retrieval, RetrievalScores RandomEmbeddings, ProbeRow Categorisation, double Seconds)
{
    /// <summary>mAP as a multiple of a random ranking's.</summary>
    public double TimesChanceMap => Retrieval.MeanAveragePrecision / Retrieval.ChanceAveragePrecision;
}

/// <summary>
/// Rows of a SCALE evaluation, in order: one model's modality subsets, or results of several models
/// (each trained with its own <c>model.modalities</c>) gathered into one ablation table.
/// </summary>
public sealed record ScaleEvalReport(IReadOnlyList<int> Ks, IReadOnlyList<ScaleEvalResult> Rows)
{
    /// <summary>The rows of several reports in order, e.g. one per trained model.</summary>
    /// <exception cref="ArgumentException">The reports use different cut-offs.</exception>
    public static ScaleEvalReport Join(IReadOnlyList<ScaleEvalReport> reports)
    {
        if (reports.Count == 0) throw new ArgumentException("no report to join", nameof(reports));
        var ks = reports[0].Ks;
        foreach (var r in reports)
            if (!r.Ks.SequenceEqual(ks)) throw new ArgumentException($"reports use different Precision@K cut-offs: [{string.Join(", ", ks)}] and [{string.Join(", ", r.Ks)}]");
        return new ScaleEvalReport(ks, reports.SelectMany(r => r.Rows).ToList());
    }
}
