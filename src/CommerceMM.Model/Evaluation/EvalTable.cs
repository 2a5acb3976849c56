using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CommerceMM.Model.Evaluation;

/// <summary>Renders an <see cref="EvalReport"/> as plain-text tables (one per allocation) and as JSON.</summary>
public static class EvalTable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A file for people and tools, never HTML: keep "s_t·e_m" readable instead of \u00B7-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ToJson(EvalReport report) => JsonSerializer.Serialize(report, Json);

    public static string Format(EvalReport report)
    {
        var s = new StringBuilder();
        var missing = new[] { (report.QueryItems, "query_to_product"), (report.PhotoItems, "photo_to_product") }.Where(m => m.Item1 == 0).Select(m => m.Item2).ToList();
        string unevaluated = missing.Count == 0 ? "" : $" ({string.Join(" and ", missing)} {(missing.Count == 1 ? "is" : "are")} not evaluated)";
        s.AppendLine(Inv($"gallery: {report.GalleryItems} held-out products; {report.QueryItems} queries, {report.PhotoItems} photos{unevaluated}; probe trained on {report.ProbeTrainItems} training products"));
        foreach (var a in report.Allocations)
        {
            s.AppendLine();
            s.AppendLine(Inv($"== allocation {a.Allocation}{(a.FullDepth ? " (full depth)" : "")}: text {a.TextLayers}, image {a.ImageLayers}, fusion {a.FusionLayers} layers; {a.Seconds:0.0} s =="));
            var ks = report.Ks;
            s.Append(Inv($"{"retrieval",-18} {"scores",-8}"));
            foreach (int k in ks) s.Append(Inv($" {"R@" + k,7}"));
            foreach (int k in ks) s.Append(Inv($" {"rand@" + k,7}"));
            s.AppendLine(Inv($" {"R@1/rand",9}"));
            foreach (var row in a.Retrieval)
            {
                s.Append(Inv($"{row.Task,-18} {row.Scores,-8}"));
                foreach (double v in row.Recall) s.Append(Inv($" {v,7:0.0000}"));
                foreach (double v in row.Random) s.Append(Inv($" {v,7:0.0000}"));
                s.AppendLine(Inv($" {row.TimesRandomAt1,8:0.0}x"));
            }
            s.AppendLine(Inv($"{"categorisation",-18} {"probe",-8} {"acc",7} {"majority",8}  (linear probe: train / test items)"));
            foreach (var p in a.Categorisation)
                s.AppendLine(Inv($"{"linear probe",-18} {p.Embedding,-8} {p.Accuracy,7:0.0000} {p.Majority,8:0.0000}  ({p.TrainItems} / {p.TestItems})"));
            s.AppendLine(Inv($"{"cost per item",-27} {"MFLOP fwd",10} {"ms",9}  (median of timed forwards at batch)"));
            foreach (var c in a.Cost)
                s.AppendLine(Inv($"{c.Embedding,-27} {c.ForwardFlopsPerItem / 1e6,10:0.00} {c.LatencyMsPerItem,9:0.000}  ({c.Repeats} at batch {c.LatencyBatch})"));
        }
        return s.ToString();
    }

    private static string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
}
