namespace CommerceMM.Observability.Metrics;

/// <summary>
/// The task ids of both models, the only values the <c>task</c> label may take: CommerceMM's 14
/// (MODEL.md §3-§4) and SCALE's 15 (§8: 5 masked, 10 modality pairs).
/// </summary>
/// <remarks>
/// Kept here rather than referenced from the model project so that the metrics library (and the
/// dashboards built on it) depends on nothing heavier than the names.
/// </remarks>
public static class TrainingTasks
{
    public const string Itc = "itc";
    public const string Itm = "itm";
    public const string Mlm = "mlm";
    public const string MimFeatureRegression = "mim_fr";
    public const string MimKl = "mim_kl";
    public const string OmniT2T = "omni_t2t";
    public const string OmniT2V = "omni_t2v";
    public const string OmniT2M = "omni_t2m";
    public const string OmniV2T = "omni_v2t";
    public const string OmniV2V = "omni_v2v";
    public const string OmniV2M = "omni_v2m";
    public const string OmniM2T = "omni_m2t";
    public const string OmniM2V = "omni_m2v";
    public const string OmniM2M = "omni_m2m";

    /// <summary>CommerceMM's 14 ids: the 5 pass-1 tasks, then the 9 Omni-Retrieval tasks.</summary>
    public static IReadOnlyList<string> CommerceMM { get; } =
    [
        Itc, Itm, Mlm, MimFeatureRegression, MimKl,
        OmniT2T, OmniT2V, OmniT2M, OmniV2T, OmniV2V, OmniV2M, OmniM2T, OmniM2V, OmniM2M,
    ];

    /// <summary>SCALE's 15 ids: masked_{modality}, then pair_{a}_{b} over the 10 modality pairs.</summary>
    public static IReadOnlyList<string> Scale { get; } =
    [
        .. Modalities.All.Select(m => $"masked_{m}"),
        .. from a in Enumerable.Range(0, Modalities.All.Count)
           from b in Enumerable.Range(a + 1, Modalities.All.Count - a - 1)
           select $"pair_{Modalities.All[a]}_{Modalities.All[b]}",
    ];

    /// <summary>Every id of both models.</summary>
    public static IReadOnlyList<string> All { get; } = [.. CommerceMM, .. Scale];

    /// <summary>Whether <paramref name="task"/> is one of the ids (ordinal match).</summary>
    public static bool IsKnown(string task) => All.Contains(task, StringComparer.Ordinal);
}
