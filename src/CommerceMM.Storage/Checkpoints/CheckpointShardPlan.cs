namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// Splits replicated files (identical on every rank, e.g. model weights under data parallelism) across ranks so each is
/// uploaded exactly once and the uploads run in parallel. Every rank computes the same plan from the same file list.
/// </summary>
public static class CheckpointShardPlan
{
    /// <summary>
    /// The rank that uploads each file (same order as <paramref name="files"/>): largest first, each to the rank with the
    /// fewest bytes so far (lowest rank on ties). Greedy largest-first is within 4/3 of the best possible balance.
    /// </summary>
    public static int[] Assign(IReadOnlyList<(string Path, long Size)> files, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        int[] owners = new int[files.Count];
        long[] load = new long[worldSize];
        // Path breaks size ties so that the plan does not depend on the order ranks happened to list their files in.
        IEnumerable<int> order = Enumerable.Range(0, files.Count)
            .OrderByDescending(i => files[i].Size)
            .ThenBy(i => files[i].Path, StringComparer.Ordinal);
        foreach (int i in order)
        {
            int best = 0;
            for (int r = 1; r < worldSize; r++)
            {
                if (load[r] < load[best])
                {
                    best = r;
                }
            }

            owners[i] = best;
            load[best] += files[i].Size;
        }

        return owners;
    }
}
