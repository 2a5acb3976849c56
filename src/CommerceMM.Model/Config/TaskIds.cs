namespace CommerceMM.Model.Config;

/// <summary>The 14 CommerceMM pre-training tasks (MODEL.md §3–§4), in reporting order.</summary>
public static class TaskIds
{
    public const string Itc = "itc";
    public const string Itm = "itm";
    public const string Mlm = "mlm";
    public const string MimFr = "mim_fr";
    public const string MimKl = "mim_kl";

    /// <summary>Pass 1: the five image-text tasks.</summary>
    public static readonly IReadOnlyList<string> Pass1 = [Itc, Itm, Mlm, MimFr, MimKl];

    // Declared before Pass2, which reads it during static initialisation.
    /// <summary>t = text, v = vision (image), m = multimodal.</summary>
    public static readonly IReadOnlyList<char> Modalities = ['t', 'v', 'm'];

    /// <summary>Pass 2: source embedding × target embedding, omni_{t,v,m}2{t,v,m}.</summary>
    public static readonly IReadOnlyList<string> Pass2 =
        (from s in Modalities from t in Modalities select Omni(s, t)).ToArray();

    public static readonly IReadOnlyList<string> All = [.. Pass1, .. Pass2];

    public static string Omni(char source, char target) => $"omni_{source}2{target}";
}
