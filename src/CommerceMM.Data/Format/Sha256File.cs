using System.Security.Cryptography;

namespace CommerceMM.Data.Format;

/// <summary>A file's SHA-256 in lowercase hexadecimal, as dataset.json lists it.</summary>
public static class Sha256File
{
    public static string Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static FileRef Describe(string root, string relative)
    {
        string full = Path.Combine(root, relative);
        return new FileRef(relative, new FileInfo(full).Length, Of(full));
    }
}
