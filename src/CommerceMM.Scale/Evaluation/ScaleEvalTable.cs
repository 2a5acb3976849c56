using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CommerceMM.Scale.Evaluation;

/// <summary>
/// Renders a <see cref="ScaleEvalReport"/> as one aligned markdown table (readable as plain text too),
/// one row per modality set, with the chance levels beside the figures; and as JSON.
/// </summary>
public static class ScaleEvalTable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A file for people and tools, never HTML: keep "image+text" readable instead of \u002B-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // NaN (e.g. no query had a relevant item) is written as "NaN" rather than failing the whole report.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string ToJson(ScaleEvalReport report) => JsonSerializer.Serialize(report, Json);

    public static string Format(ScaleEvalReport report)
    {
        var header = new List<string> { "model", "modalities", "queries", "gallery", "mAP" };
        header.AddRange(report.Ks.Select(k => $"P@{k}"));
        header.AddRange(["acc", "chance mAP", "random-emb mAP", "chance P@k", "majority acc"]);
        var rows = report.Rows.Select(r =>
        {
            var ret = r.Retrieval;
            var cells = new List<string> { r.Label, string.Join('+', r.Modalities), Inv($"{ret.ScoredQueries}"), Inv($"{ret.Gallery}"), Number(ret.MeanAveragePrecision) };
            cells.AddRange(ret.Precision.Select(Number));
            cells.AddRange([Number(r.Categorisation.Accuracy), Number(ret.ChanceAveragePrecision), Number(r.RandomEmbeddings.MeanAveragePrecision),
                            Number(ret.ChancePrecision), Number(r.Categorisation.Majority)]);
            return cells;
        }).ToList();
        int[] widths = header.Select((h, c) => rows.Select(row => row[c].Length).Append(h.Length).Max()).ToArray();

        var s = new StringBuilder();
        s.AppendLine("SCALE evaluation: product embedding = L2-normalised sum of the pooled embeddings of the modalities it has among the row's;");
        s.AppendLine("retrieval over held-out products (queries: even stream positions, gallery: odd; relevant = same category; dot product);");
        if (report.Rows.Count > 0)
            s.AppendLine(Inv($"categorisation: linear probe (standardised features) trained on {Range(report.Rows.Select(r => r.Categorisation.TrainItems))} training products, accuracy on {Range(report.Rows.Select(r => r.Categorisation.TestItems))} held-out products."));
        s.AppendLine();
        s.AppendLine(Line(header, widths, numericFrom: 2));
        s.AppendLine("|" + string.Join("|", widths.Select((w, c) => c < 2 ? new string('-', w + 2) : " " + new string('-', w - 1) + ": ")) + "|");
        foreach (var row in rows) s.AppendLine(Line(row, widths, numericFrom: 2));
        int skipped = report.Rows.Sum(r => r.Retrieval.QueriesWithoutRelevant);
        if (skipped > 0) s.AppendLine(Inv($"({skipped} queries had no relevant gallery item and were left out of mAP and P@k)"));
        foreach (var r in report.Rows.Where(r => r.ProductsWithoutModality > 0))
            s.AppendLine(Inv($"({r.Label}: {r.ProductsWithoutModality} of {r.HeldOutProducts} held-out products have none of its modalities and were left out)"));
        return s.ToString();
    }

    /// <summary>Text columns left-aligned, figures right-aligned.</summary>
    private static string Line(IReadOnlyList<string> cells, int[] widths, int numericFrom) =>
        "| " + string.Join(" | ", cells.Select((c, i) => i < numericFrom ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";

    /// <summary>"256", or "250–256" when rows differ (e.g. products without a row's modalities are left out).</summary>
    private static string Range(IEnumerable<int> values)
    {
        var list = values.ToList();
        return list.Min() == list.Max() ? Inv($"{list[0]}") : Inv($"{list.Min()}–{list.Max()}");
    }

    private static string Number(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
}
