namespace CommerceMM.Model.Config;

/// <summary>Small validation helpers shared by the model configurations (CommerceMM, SCALE).</summary>
public static class ConfigChecks
{
    public static void Positive(string key, int value)
    {
        if (value <= 0) throw new ConfigException(key, $"must be a positive integer, got {value}");
    }
}
