namespace CommerceMM.Scale.Config;

/// <summary>
/// The five M5Product modalities (MODEL.md §8). The numeric values index the presence columns of a
/// batch, the rows and columns of the harmonized-weight matrix and the fusion's type embeddings.
/// </summary>
public enum ScaleModality
{
    Image = 0,
    Text = 1,
    Table = 2,
    Video = 3,
    Audio = 4,
}

public static class ScaleModalities
{
    public const int Count = 5;

    public static readonly IReadOnlyList<ScaleModality> All =
        [ScaleModality.Image, ScaleModality.Text, ScaleModality.Table, ScaleModality.Video, ScaleModality.Audio];

    /// <summary>The lower-case name used in task ids, config keys and data sets ("image", "table", ...).</summary>
    public static string Name(this ScaleModality m) => m.ToString().ToLowerInvariant();

    /// <exception cref="ArgumentException">Not one of the five names.</exception>
    public static ScaleModality Parse(string name)
    {
        string key = name.Trim().ToLowerInvariant();
        foreach (var m in All)
            if (m.Name() == key) return m;
        throw new ArgumentException($"unknown modality '{name}' (known: {string.Join(", ", All.Select(x => x.Name()))})");
    }

    /// <summary>The 10 unordered pairs (a, b) with a before b, in reporting order.</summary>
    public static readonly IReadOnlyList<(ScaleModality A, ScaleModality B)> Pairs =
        (from a in All from b in All where a < b select (a, b)).ToArray();
}
