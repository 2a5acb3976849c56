namespace CommerceMM.Data.Loading;

/// <summary>
/// The sample order of one epoch: a pure function of (seed, epoch, canonical partitions, shard
/// sizes). The world size plays no part, which is what lets a job resume on another world size.
/// </summary>
/// <remarks>
/// Shard-aware, so readers touch few shards at a time: (1) shuffle the shards; (2) lay their samples
/// out in that order and cut the run into <c>partitions</c> contiguous pieces whose sizes differ by at
/// most one; (3) shuffle inside each piece; (4) interleave the pieces round-robin. At any moment the
/// stream then draws from at most <c>partitions</c> shards.
/// </remarks>
public static class EpochOrder
{
    /// <summary>Global sample ids (shard base + index in shard) in the order the epoch visits them.</summary>
    public static int[] Build(ulong seed, long epoch, int partitions, IReadOnlyList<int> shardSamples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        var bases = new int[shardSamples.Count];
        int total = 0;
        for (int s = 0; s < shardSamples.Count; s++)
        {
            bases[s] = total;
            total = checked(total + shardSamples[s]);
        }

        int[] shardOrder = Enumerable.Range(0, shardSamples.Count).ToArray();
        DeterministicRandom.For(seed, (ulong)epoch, 0x5A4D).Shuffle(shardOrder.AsSpan());
        var laidOut = new int[total];
        int at = 0;
        foreach (int s in shardOrder)
            for (int i = 0; i < shardSamples[s]; i++) laidOut[at++] = bases[s] + i;

        // Piece p holds laidOut[Start(p) .. Start(p+1)); the first (total % partitions) pieces are one longer.
        int quotient = total / partitions, remainder = total % partitions;
        int Start(int p) => p * quotient + Math.Min(p, remainder);
        for (int p = 0; p < partitions; p++)
            DeterministicRandom.For(seed, (ulong)epoch, (ulong)p, 0x9A27).Shuffle(laidOut.AsSpan(Start(p), Start(p + 1) - Start(p)));

        var order = new int[total];
        at = 0;
        for (int round = 0; round <= quotient; round++)
            for (int p = 0; p < partitions; p++)
                if (Start(p) + round < Start(p + 1)) order[at++] = laidOut[Start(p) + round];
        return order;
    }
}
