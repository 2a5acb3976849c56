using System.Globalization;
using System.Text.RegularExpressions;
using CommerceMM.Model.Config;

namespace CommerceMM.Model.Evaluation;

/// <summary>The allocation flag of evaluation: "t2-v2-f1" (as <see cref="Allocation.ToString"/> writes it) or "all".</summary>
public static partial class AllocationNames
{
    public const string All = "all";

    /// <summary>Full depth first, then the config's other allocations in config order, each once.</summary>
    public static IReadOnlyList<Allocation> Ordered(CommerceMMConfig config) =>
        new[] { config.FullDepth }.Concat(config.EffectiveAllocations)
            .Select(a => a with { Probability = 1 })
            .Distinct()
            .ToList();

    /// <summary>"all" (null: every allocation) or one allocation that fits the model.</summary>
    /// <exception cref="ArgumentException">Malformed, or deeper than the model.</exception>
    public static IReadOnlyList<Allocation>? Parse(string value, CommerceMMConfig config)
    {
        if (value == All) return null;
        var m = Pattern().Match(value);
        if (!m.Success) throw new ArgumentException($"--allocation '{value}' is neither '{All}' nor of the form t2-v2-f1");
        int Get(string g) => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        var a = new Allocation(Get("t"), Get("v"), Get("f"));
        if (a.Text < 1 || a.Text > config.Text.Layers || a.Image < 1 || a.Image > config.Image.Layers || a.Fusion < 1 || a.Fusion > config.FusionLayers)
            throw new ArgumentException($"--allocation {a} does not fit the model (text 1..{config.Text.Layers}, image 1..{config.Image.Layers}, fusion 1..{config.FusionLayers})");
        return [a];
    }

    [GeneratedRegex(@"^t(?<t>\d{1,3})-v(?<v>\d{1,3})-f(?<f>\d{1,3})$")]
    private static partial Regex Pattern();
}
