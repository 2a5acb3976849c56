namespace CommerceMM.Data.Format;

/// <summary>
/// One sample as stored: a key and its parts, WebDataset-style (tar entries named
/// <c>{key}.{part}</c>, e.g. <c>fm-000012.jpg</c>, <c>fm-000012.src.txt</c>).
/// </summary>
public sealed class ShardSample
{
    public ShardSample(string key, IReadOnlyDictionary<string, byte[]> parts)
    {
        Key = ValidateKey(key);
        Parts = parts;
    }

    public string Key { get; }

    /// <summary>Part name (extension after the key, e.g. "jpg", "src.txt") to bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> Parts { get; }

    public byte[]? Part(string name) => Parts.TryGetValue(name, out var bytes) ? bytes : null;

    /// <summary>
    /// Keys become tar entry names and may not contain '.', which separates key from part; short
    /// ASCII keys also keep every header a plain 512-byte ustar header.
    /// </summary>
    public static string ValidateKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 64)
            throw new DatasetException($"sample key '{key}' must have 1..64 characters");
        foreach (char c in key)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                throw new DatasetException($"sample key '{key}' may hold only ASCII letters, digits, '-' and '_'");
        return key;
    }
}
