using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using static TorchSharp.torch;

namespace CommerceMM.Data.Tests.Loading;

public class ShardedLoaderTests
{
    private const int Epoch = SmallDataset.TrainProducts;

    [Fact]
    public async Task NextAsync_SameSeedTwice_SameOrder_OtherSeedOtherOrder()
    {
        var (a, _) = await LoaderHarness.RunAsync(world: 1, maxSteps: 5);
        var (b, _) = await LoaderHarness.RunAsync(world: 1, maxSteps: 5);
        var (c, _) = await LoaderHarness.RunAsync(world: 1, maxSteps: 5, seed: 12);

        Assert.Equal(a[0], b[0]);
        Assert.NotEqual(a[0], c[0]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task NextAsync_WorldSize_RanksDisjointAndCoverTheEpochOnce(int world)
    {
        var (keys, positions) = await LoaderHarness.RunAsync(world, maxSteps: int.MaxValue);

        var all = keys.SelectMany(k => k).ToList();
        Assert.Equal(Epoch, all.Count);
        Assert.Equal(Epoch, all.Distinct().Count());
        Assert.All(positions, p => Assert.Equal((1L, 0L, 0L), (p.Epoch, p.Cursor, p.Offset)));
    }

    [Fact]
    public async Task NextAsync_AnyWorldSize_VisitsSamplesInTheSameGlobalOrder()
    {
        // Order is a pure function of (seed, epoch, partitions): interleaving the ranks of world 3
        // step by step reproduces world 1's sequence.
        var (single, _) = await LoaderHarness.RunAsync(world: 1, maxSteps: int.MaxValue);
        var (three, _) = await LoaderHarness.RunAsync(world: 3, maxSteps: int.MaxValue);
        var interleaved = new List<string>();
        for (int k = 0; k < three.Max(r => r.Count); k++)
            for (int r = 0; r < 3; r++)
                if (k < three[r].Count) interleaved.Add(three[r][k]);
        Assert.Equal(single[0], interleaved);
    }

    [Theory]
    [InlineData(1, 1, 4)]
    [InlineData(2, 3, 1)]
    [InlineData(4, 2, 3)]
    [InlineData(3, 5, 2)]
    [InlineData(2, 17, 4)] // world 2 stops before its final partial step (240 = 17·14 + 2); two of four ranks then get empty batches
    public async Task Resume_StopAnywhereOnNewWorldSize_EverySampleExactlyOncePerEpoch(int worldBefore, int stepsBefore, int worldAfter)
    {
        var (before, saved) = await LoaderHarness.RunAsync(worldBefore, stepsBefore);
        Assert.All(saved, p => Assert.Equal(saved[0], p)); // the record is the same on every rank

        var record = LoaderPosition.FromJson(saved[0].ToJson()); // as it would come back from a checkpoint
        var (after, end) = await LoaderHarness.RunAsync(worldAfter, int.MaxValue, record);

        var all = before.SelectMany(k => k).Concat(after.SelectMany(k => k)).ToList();
        Assert.Equal(Epoch, all.Count);
        Assert.Equal(Epoch, all.Distinct().Count());
        Assert.All(end, p => Assert.Equal(1, p.Epoch));
    }

    [Fact]
    public async Task Resume_AfterEpochEnd_StartsNextEpochInItsOwnOrder()
    {
        var (first, saved) = await LoaderHarness.RunAsync(world: 2, maxSteps: int.MaxValue);
        var (second, _) = await LoaderHarness.RunAsync(world: 2, maxSteps: int.MaxValue, resume: saved[0]);

        Assert.Equal(1, saved[0].Epoch);
        Assert.Equal(Epoch, second.SelectMany(k => k).Distinct().Count());
        Assert.NotEqual(first[0], second[0]);
    }

    [Fact]
    public async Task Resume_OtherSeed_RefusedByName()
    {
        var (_, saved) = await LoaderHarness.RunAsync(world: 1, maxSteps: 2);
        var options = await LoaderHarness.OptionsAsync(0, 1, seed: 99, resume: saved[0]);
        var error = Assert.Throws<ArgumentException>(() => DataLoader.Pairs(options));
        Assert.Contains("seed", error.Message);
    }

    [Fact]
    public async Task NextAsync_PairBatch_HasTheShapesPassOneExpects()
    {
        await using var loader = DataLoader.Pairs(await LoaderHarness.OptionsAsync(0, 1));
        using var batch = await loader.NextAsync();

        Assert.Equal([7L, 1, 28, 28], batch.Images.shape);
        Assert.Equal(ScalarType.Float32, batch.Images.dtype);
        Assert.Equal([7L, 24], batch.TokenIds.shape);
        Assert.Equal(ScalarType.Int64, batch.TokenIds.dtype);
        Assert.Equal(ScalarType.Bool, batch.PaddingMask.dtype);
        long[] ids = batch.TokenIds.data<long>().ToArray();
        bool[] mask = batch.PaddingMask.data<bool>().ToArray();
        for (int row = 0; row < 7; row++)
        {
            Assert.Equal(loader.Tokenizer.ClsId, ids[row * 24]);
            Assert.False(mask[row * 24]);
            for (int j = 0; j < 24; j++) Assert.Equal(mask[row * 24 + j], ids[row * 24 + j] == loader.Tokenizer.PadId);
        }
        float[] pixels = batch.Images.data<float>().ToArray();
        // Normalised with mean 0.286 / std 0.353: black background is about -0.81, white about 2.02.
        Assert.InRange(pixels.Min(), -0.82f, -0.80f);
        Assert.InRange(pixels.Max(), 0.5f, 2.03f);
        Assert.All(batch.Categories.data<long>().ToArray(), c => Assert.InRange(c, 0, 9));
        Assert.True(loader.Stats.DataWait > TimeSpan.Zero);
    }

    [Fact]
    public async Task To_AnotherHandleOnTheDevice_KeepsRowsPositionAndValues_AndOwnsItsTensors()
    {
        await using var loader = DataLoader.Omni(await LoaderHarness.OptionsAsync(0, 1, stream: StreamNames.Omni));
        using var batch = await loader.NextAsync();
        var original = batch.SourceImages.data<float>().ToArray();

        var moved = batch.To(CPU);
        Assert.Equal(batch.Keys, moved.Keys);
        Assert.Equal((batch.Epoch, batch.Step, batch.Position), (moved.Epoch, moved.Step, moved.Position));
        Assert.Equal(original, moved.SourceImages.data<float>().ToArray());
        moved.Dispose();
        Assert.Equal(original, batch.SourceImages.data<float>().ToArray()); // the source batch's tensors outlive the copy
    }

    [Fact]
    public async Task NextAsync_OmniBatch_PresenceFlagsMatchKinds()
    {
        await using var loader = DataLoader.Omni(await LoaderHarness.OptionsAsync(0, 1, stream: StreamNames.Omni));
        for (int step = 0; step < 3; step++)
        {
            using var batch = await loader.NextAsync();
            long[] kinds = batch.Kinds.data<long>().ToArray();
            bool[] hasText = batch.SourceHasText.data<bool>().ToArray();
            bool[] hasImage = batch.SourceHasImage.data<bool>().ToArray();
            bool[] sourceMask = batch.SourcePaddingMask.data<bool>().ToArray();
            for (int i = 0; i < batch.Count; i++)
            {
                var kind = (PairKind)kinds[i];
                Assert.Equal(kind is PairKind.Query or PairKind.Listing, hasText[i]);
                Assert.Equal(kind is PairKind.Photo or PairKind.Listing, hasImage[i]);
                Assert.Equal(!hasText[i], sourceMask[i * 24]); // a source without text is all padding
                Assert.EndsWith(kind switch { PairKind.Query => "-q", PairKind.Photo => "-p", _ => "-l" }, batch.Keys[i]);
            }
            Assert.Equal([batch.Count, 1L, 28, 28], batch.TargetImages.shape);
            Assert.Equal([batch.Count, 24L], batch.TargetTokenIds.shape);
        }
    }

    [Fact]
    public async Task Pairs_OnOmniStream_ErrorNamesStreamAndSchema()
    {
        var options = await LoaderHarness.OptionsAsync(0, 1, stream: StreamNames.Omni);
        var error = Assert.Throws<DatasetException>(() => DataLoader.Pairs(options));
        Assert.Contains("'omni'", error.Message);
    }

    [Fact]
    public async Task NextAsync_CorruptShard_ThrowsNamingTheShard()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("loadcorrupt");
        TempDirectory.CopyTree(shared.Directory, dir.Path);
        var shards = shared.Manifest.Stream(StreamNames.Pairs).Shards;
        foreach (var shard in shards) // every shard, so whichever the order reads first is corrupt
        {
            string path = Path.Combine(dir.Path, shard.File);
            byte[] bytes = File.ReadAllBytes(path);
            bytes[700] ^= 0x40;
            File.WriteAllBytes(path, bytes);
        }
        var options = await LoaderHarness.OptionsAsync(0, 1);
        options.DatasetDirectory = dir.Path;
        await using var loader = DataLoader.Pairs(options);

        var error = await Assert.ThrowsAsync<ShardCorruptException>(async () => await loader.NextAsync());
        Assert.Matches(@"pairs/shard-00000\d\.tar", error.Message);
        Assert.Contains("expected", error.Message);
    }

    [Fact]
    public async Task Options_BadRank_ErrorNamesOption()
    {
        var options = await LoaderHarness.OptionsAsync(rank: 4, world: 4);
        var error = Assert.Throws<ArgumentException>(() => DataLoader.Pairs(options));
        Assert.Contains("Rank", error.Message);
    }
}
