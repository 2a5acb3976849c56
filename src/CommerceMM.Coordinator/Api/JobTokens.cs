using System.Security.Cryptography;
using System.Text;

namespace CommerceMM.Coordinator.Api;

/// <summary>
/// The bearer token of each job. Only SHA-256 digests are kept, and compared in constant time, so neither the token
/// nor its length leaks through timing, memory dumps or a careless log line.
/// </summary>
internal sealed class JobTokens
{
    private readonly Dictionary<string, byte[]> _digests = new(StringComparer.Ordinal);

    public JobTokens(IEnumerable<KeyValuePair<string, string>> tokens)
    {
        foreach ((string job, string token) in tokens)
        {
            _digests[job] = Digest(token);
        }
    }

    public bool Knows(string job) => _digests.ContainsKey(job);

    public bool Verify(string job, string? presented) =>
        presented is not null && _digests.TryGetValue(job, out byte[]? expected)
        && CryptographicOperations.FixedTimeEquals(expected, Digest(presented));

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
