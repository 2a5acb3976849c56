namespace CommerceMM.Data.Loading;

/// <summary>
/// Maps an epoch's order onto ranks from a starting cursor: rank r's k-th sample is the one at
/// <c>cursor + k·W + r</c>, and its batch s holds k in [s·B, (s+1)·B). Every rank has the same number
/// of steps; at the end of an epoch a rank's batch may be short, or even empty, so that collective
/// operations stay matched while no sample is dropped or repeated.
/// </summary>
public readonly record struct RankPlan(long Samples, long Cursor, int WorldSize, int Rank, int BatchSize)
{
    /// <summary>Steps left in this epoch (the same on every rank).</summary>
    public long Steps => Samples <= Cursor ? 0 : (Samples - Cursor + (long)WorldSize * BatchSize - 1) / ((long)WorldSize * BatchSize);

    /// <summary>Positions in the epoch order that this rank's batch <paramref name="step"/> holds.</summary>
    public long[] Batch(long step)
    {
        var positions = new List<long>(BatchSize);
        for (long k = step * BatchSize; k < (step + 1) * BatchSize; k++)
        {
            long position = Cursor + k * WorldSize + Rank;
            if (position >= Samples) break;
            positions.Add(position);
        }
        return positions.ToArray();
    }
}
