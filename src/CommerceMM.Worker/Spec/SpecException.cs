namespace CommerceMM.Worker.Spec;

/// <summary>An invalid job spec: names the key (as written in YAML, e.g. data.batch_size) and the fix.</summary>
public sealed class SpecException(string key, string message, Exception? inner = null) : Exception($"{key}: {message}", inner)
{
    public string Key { get; } = key;
}
