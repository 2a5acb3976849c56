using CommerceMM.Scale.Config;

namespace CommerceMM.Scale.Evaluation;

/// <summary>One row of an evaluation: the modalities whose embeddings are summed, and the row's label.</summary>
/// <param name="Label">how the table names the row, e.g. "image+text" or "+table"</param>
public sealed record ModalitySet(string Label, IReadOnlyList<ScaleModality> Modalities)
{
    /// <summary>The order of M5Product's modality ablation: image and text first, then table, video, audio.</summary>
    public static readonly IReadOnlyList<ScaleModality> PaperOrder =
        [ScaleModality.Image, ScaleModality.Text, ScaleModality.Table, ScaleModality.Video, ScaleModality.Audio];

    /// <summary>The set labelled by its modalities in paper order, joined by '+' ("image+text+table").</summary>
    public static ModalitySet Of(IEnumerable<ScaleModality> modalities)
    {
        var ordered = PaperOrder.Where(modalities.Contains).ToArray();
        return new ModalitySet(string.Join('+', ordered.Select(m => m.Name())), ordered);
    }

    /// <summary>"image+text+table" or "image,text,table" → that set.</summary>
    /// <exception cref="ArgumentException">An unknown or repeated modality (named), or none.</exception>
    public static ModalitySet Parse(string text)
    {
        var names = text.Split(['+', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new ArgumentException($"no modality in '{text}'");
        var modalities = names.Select(ScaleModalities.Parse).ToArray();
        var twice = modalities.GroupBy(m => m).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ArgumentException($"'{text}' names {twice.Key.Name()} twice");
        return Of(modalities);
    }

    /// <summary>
    /// The paper's inference-time ablation for one model: image+text, then each further modality of the
    /// paper order added in turn, limited to what <paramref name="config"/> enables. Rows after the first
    /// are labelled "+table", "+video", "+audio". A model without image or text starts from what it has.
    /// </summary>
    public static IReadOnlyList<ModalitySet> PaperAblation(ScaleConfig config)
    {
        var enabled = PaperOrder.Where(config.Enabled).ToList();
        var first = enabled.Where(m => m is ScaleModality.Image or ScaleModality.Text).ToList();
        if (first.Count == 0) first.Add(enabled[0]);
        var rows = new List<ModalitySet> { Of(first) };
        var sum = new List<ScaleModality>(first);
        foreach (var m in enabled.Where(m => !first.Contains(m)))
        {
            sum.Add(m);
            rows.Add(Of(sum) with { Label = "+" + m.Name() });
        }
        return rows;
    }

    /// <exception cref="ArgumentException">The set names a modality the model does not enable.</exception>
    public ModalitySet CheckEnabledIn(ScaleConfig config)
    {
        if (Modalities.Count == 0) throw new ArgumentException($"evaluation row '{Label}' sums no modality");
        foreach (var m in Modalities)
            if (!config.Enabled(m))
                throw new ArgumentException($"evaluation row '{Label}' uses {m.Name()}, which the model does not enable (model.modalities: {string.Join(", ", config.Modalities.Select(x => x.Name()))}); its encoder was never trained");
        return this;
    }
}
