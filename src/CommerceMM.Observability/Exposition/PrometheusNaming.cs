using System.Globalization;
using System.Text;

namespace CommerceMM.Observability.Exposition;

/// <summary>Name sanitising, escaping and number formatting for text format 0.0.4.</summary>
public static class PrometheusNaming
{
    /// <summary>
    /// Maps any string onto <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>: invalid characters (OpenTelemetry allows
    /// '.', '-' and '/') become '_', and a leading digit gets a '_' prefix.
    /// </summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>
    /// Maps any string onto <c>[a-zA-Z_][a-zA-Z0-9_]*</c>. Colons are not allowed in label names, and a
    /// leading "__" is reserved for Prometheus' own labels, so it is cut down to one '_'.
    /// </summary>
    public static string SanitizeLabelName(string name)
    {
        var sanitized = Sanitize(name, allowColon: false);
        while (sanitized.StartsWith("__", StringComparison.Ordinal))
        {
            sanitized = sanitized[1..];
        }
        return sanitized;
    }

    /// <summary>Escapes a label value: backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string value) => Escape(value, escapeQuote: true);

    /// <summary>Escapes HELP text: backslash and line feed (quotes stay as they are in 0.0.4).</summary>
    public static string EscapeHelp(string help) => Escape(help, escapeQuote: false);

    /// <summary>
    /// Shortest round-trip form ("R"), which Go's ParseFloat reads back exactly; the special values
    /// use Prometheus' spellings.
    /// </summary>
    public static string FormatValue(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0) return "_";
        var builder = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0])) builder.Append('_');
        foreach (var c in name)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            builder.Append(valid ? c : '_');
        }
        return builder.ToString();
    }

    private static string Escape(string value, bool escapeQuote)
    {
        if (value.AsSpan().IndexOfAny('\\', '\n', '"') < 0) return value;
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\\"); break;
                case '\n': builder.Append(@"\n"); break;
                case '"' when escapeQuote: builder.Append("\\\""); break;
                default: builder.Append(c); break;
            }
        }
        return builder.ToString();
    }
}
