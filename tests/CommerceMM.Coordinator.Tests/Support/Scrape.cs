using System.Globalization;

namespace CommerceMM.Coordinator.Tests.Support;

/// <summary>One <c>/metrics</c> response, looked up by series (<c>name{label="value"}</c>, labels as the writer orders them).</summary>
internal sealed class Scrape(string text)
{
    public string Text { get; } = text;

    /// <summary>The sample's value, or null when the series is absent.</summary>
    /// <remarks>The OpenTelemetry Prometheus exporter writes a series without labels as <c>name{} value</c>; both spellings match.</remarks>
    public double? Value(string series)
    {
        foreach (string prefix in new[] { series + " ", series + "{} " })
        {
            string? line = Text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null) return double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
        }
        return null;
    }

    public double Require(string series) =>
        Value(series) ?? throw new Xunit.Sdk.XunitException($"no sample '{series}' in:\n{Text}");
}
