namespace CommerceMM.Coordinator.Contracts;

/// <summary>
/// PUT <c>/v1/jobs/{job}/rendezvous/{generation}/keys?key=K</c>: a rank publishes a value (a Gloo address, the NCCL
/// unique id) under a key of its generation. Setting a key again replaces its value.
/// </summary>
/// <param name="Value">The bytes, base64 in JSON; at most <see cref="RendezvousLimits.MaxValueBytes"/>.</param>
[Immutable]
public sealed record RendezvousSetRequest(byte[] Value);

/// <summary>
/// The answer to GET <c>/v1/jobs/{job}/rendezvous/{generation}/keys?key=K&amp;waitSeconds=S</c>, a long poll: the coordinator
/// answers as soon as the key is set, or with <see cref="Found"/> false once S seconds passed (ask again).
/// </summary>
[Immutable]
public sealed record RendezvousValue(string Key, bool Found, byte[]? Value);

/// <summary>
/// Bounds of one generation's rendezvous keys. A rendezvous of N ranks needs a few keys per rank of at most a few
/// bytes per peer, so these leave room for thousands of ranks while keeping a confused client from filling memory.
/// </summary>
public static class RendezvousLimits
{
    public const int MaxKeyLength = 512;

    public const int MaxValueBytes = 1 << 20;

    /// <summary>Keys set or waited for, per generation.</summary>
    public const int MaxKeysPerGeneration = 16_384;

    /// <summary>Bytes of values, per generation.</summary>
    public const long MaxBytesPerGeneration = 64L << 20;

    /// <summary>Longest server-side wait of one GET; clients poll again for longer waits, so no proxy idles a request out.</summary>
    public const double MaxWaitSeconds = 20;
}
