namespace CommerceMM.Observability.Metrics;

/// <summary>
/// One preallocated tag per allowed label value. Recording with an unknown value throws instead of
/// creating a series, which is how the label sets stay bounded.
/// </summary>
internal sealed class TagCache
{
    private readonly string labelName;
    private readonly Dictionary<string, KeyValuePair<string, object?>> tags;

    public TagCache(string labelName, IEnumerable<string> allowed)
    {
        this.labelName = labelName;
        tags = allowed.ToDictionary(v => v, v => new KeyValuePair<string, object?>(labelName, v), StringComparer.Ordinal);
    }

    public IEnumerable<string> Values => tags.Keys;

    public KeyValuePair<string, object?> Get(string value, string paramName) =>
        tags.TryGetValue(value, out var tag)
            ? tag
            : throw new ArgumentException(
                $"'{value}' is not a known {labelName} (known: {string.Join(", ", tags.Keys)}); labels are kept to a fixed set.", paramName);
}
