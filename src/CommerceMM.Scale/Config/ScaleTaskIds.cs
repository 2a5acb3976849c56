namespace CommerceMM.Scale.Config;

/// <summary>The 15 SCALE losses (MODEL.md §8), in reporting order: 5 masked, then 10 pairs.</summary>
public static class ScaleTaskIds
{
    /// <summary>masked_{modality}: text MLM, table entity masking, feature regression for image/video/audio.</summary>
    public static string Masked(ScaleModality m) => $"masked_{m.Name()}";

    /// <summary>pair_{a}_{b}: symmetric InfoNCE between two modalities' pooled embeddings.</summary>
    public static string Pair(ScaleModality a, ScaleModality b) => a < b ? $"pair_{a.Name()}_{b.Name()}" : Pair(b, a);

    public static readonly IReadOnlyList<string> MaskedTasks = ScaleModalities.All.Select(Masked).ToArray();

    public static readonly IReadOnlyList<string> PairTasks = ScaleModalities.Pairs.Select(p => Pair(p.A, p.B)).ToArray();

    public static readonly IReadOnlyList<string> All = [.. MaskedTasks, .. PairTasks];
}
