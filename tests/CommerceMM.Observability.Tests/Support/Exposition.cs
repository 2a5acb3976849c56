using System.Globalization;
using System.Text.RegularExpressions;

namespace CommerceMM.Observability.Tests.Support;

/// <summary>Reads samples back out of text format 0.0.4, for assertions.</summary>
internal static partial class Exposition
{
    public sealed record Sample(string Name, string Labels, double Value);

    public static IReadOnlyList<Sample> Samples(string text) =>
        [.. text.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => SampleLine().Match(l))
            .Select(m => new Sample(m.Groups["name"].Value, m.Groups["labels"].Value, ParseValue(m.Groups["value"].Value)))];

    /// <summary>Names on TYPE lines, with their types.</summary>
    public static IReadOnlyDictionary<string, string> Types(string text) =>
        text.Split('\n')
            .Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[2], p => p[3]);

    public static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$")]
    private static partial Regex SampleLine();
}
