namespace CommerceMM.Model.Config;

/// <summary>An invalid configuration value, naming the key (as written in the job YAML) and the fix.</summary>
public sealed class ConfigException(string key, string message) : Exception($"{key}: {message}")
{
    public string Key { get; } = key;
}
