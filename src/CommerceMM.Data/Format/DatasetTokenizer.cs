using System.Security.Cryptography;

namespace CommerceMM.Data.Format;

/// <summary>A data set's tokenizer, read whole and checked against its dataset.json (for a checkpoint, or a build that keeps it).</summary>
public static class DatasetTokenizer
{
    /// <exception cref="DatasetException">The file is missing, or (<see cref="ShardCorruptException"/>) is not the bytes dataset.json lists.</exception>
    public static byte[] Read(string root, DatasetManifest manifest)
    {
        var spec = manifest.Tokenizer;
        string path = Path.Combine(root, spec.File);
        if (!File.Exists(path)) throw new DatasetException($"tokenizer '{spec.File}' is missing from '{root}'; {ShardReader.Remedy}");
        byte[] bytes = File.ReadAllBytes(path);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(sha, spec.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ShardCorruptException($"'{spec.File}' failed its SHA-256 check: expected {spec.Sha256}, actual {sha}; data set '{root}': {ShardReader.Remedy}");
        return bytes;
    }
}
