using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;

namespace CommerceMM.Data.Tests.Loading;

/// <summary>Runs real loaders over the shared small corpus and records which keys each rank saw.</summary>
internal static class LoaderHarness
{
    public const int BatchSize = 7; // does not divide 240: ends of epochs are ragged

    public static async Task<LoaderOptions> OptionsAsync(int rank, int world, ulong seed = 11, LoaderPosition? resume = null, string stream = StreamNames.Pairs)
    {
        var built = await SmallDataset.GetAsync();
        return new LoaderOptions
        {
            DatasetDirectory = built.Directory,
            Stream = stream,
            BatchSize = BatchSize,
            Seed = seed,
            CanonicalPartitions = 8,
            Rank = rank,
            WorldSize = world,
            Resume = resume,
        };
    }

    /// <summary>Reads up to maxSteps batches (or to the end of the epoch) on every rank; returns keys per rank and the final positions.</summary>
    public static async Task<(List<string>[] Keys, LoaderPosition[] Positions)> RunAsync(int world, int maxSteps, LoaderPosition? resume = null, ulong seed = 11)
    {
        var keys = new List<string>[world];
        var positions = new LoaderPosition[world];
        for (int rank = 0; rank < world; rank++)
        {
            keys[rank] = [];
            await using var loader = DataLoader.Pairs(await OptionsAsync(rank, world, seed, resume));
            positions[rank] = loader.Position;
            for (int step = 0; step < maxSteps; step++)
            {
                using var batch = await loader.NextAsync();
                keys[rank].AddRange(batch.Keys);
                positions[rank] = batch.Position;
                if (batch.EndOfEpoch) break;
            }
        }
        return (keys, positions);
    }
}
