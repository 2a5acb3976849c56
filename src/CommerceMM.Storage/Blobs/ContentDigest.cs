using System.Security.Cryptography;

namespace CommerceMM.Storage.Blobs;

/// <summary>A hash the bytes of a read must have: the store's own (Azure: the stored Content-MD5) or the reader's SHA-256.</summary>
internal sealed record ContentDigest(HashAlgorithmName Algorithm, byte[] Value)
{
    /// <summary>How errors name the algorithm: <c>MD5</c>, <c>SHA-256</c>.</summary>
    public string Name => Algorithm == HashAlgorithmName.MD5 ? "MD5" : "SHA-256";

    public string Hex => Convert.ToHexStringLower(Value);

    public bool Matches(ReadOnlySpan<byte> actual) => actual.SequenceEqual(Value);

    public static ContentDigest Md5(byte[] value) => new(HashAlgorithmName.MD5, value);

    /// <summary>The SHA-256 a reader passed to <see cref="IBlobStore.OpenReadAsync"/>, or null when it passed none.</summary>
    /// <exception cref="ArgumentException">It is not 64 hexadecimal digits, or it came with a range (a digest is of the whole blob).</exception>
    public static ContentDigest? Sha256(string? hex, BlobRange? range)
    {
        if (hex is null)
        {
            return null;
        }

        if (range is not null)
        {
            throw new ArgumentException($"expectedSha256 is the whole blob's digest; it cannot check the range {range}. Read the whole blob, or pass no digest.", "expectedSha256");
        }

        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit)
            ? new ContentDigest(HashAlgorithmName.SHA256, Convert.FromHexString(hex))
            : throw new ArgumentException($"expectedSha256 '{hex}' is not a SHA-256 (64 hexadecimal digits).", "expectedSha256");
    }
}
