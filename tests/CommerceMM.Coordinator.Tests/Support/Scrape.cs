using System.Globalization;

namespace CommerceMM.Coordinator.Tests.Support;

/// <summary>One <c>/metrics</c> response, looked up by series (<c>name{label="value"}</c>, labels as the writer orders them).</summary>
internal sealed class Scrape(string text)
{
    public string Text { get; } = text;

    /// <summary>The sample's value, or null when the series is absent.</summary>
    public double? Value(string series)
    {
        string? line = Text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    public double Require(string series) =>
        Value(series) ?? throw new Xunit.Sdk.XunitException($"no sample '{series}' in:\n{Text}");
}
