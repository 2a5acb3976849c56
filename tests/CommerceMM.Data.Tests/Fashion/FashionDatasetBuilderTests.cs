using System.Security.Cryptography;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;

namespace CommerceMM.Data.Tests.Fashion;

public class FashionDatasetBuilderTests
{
    [Fact]
    public async Task BuildAsync_SmallCorpus_WritesAllStreamsCountsAndManifest()
    {
        var built = await SmallDataset.GetAsync();
        var m = DatasetManifest.Read(built.Directory);

        Assert.Equal(DatasetManifest.CurrentVersion, m.Version);
        Assert.Equal(["image", "text"], m.Modalities);
        Assert.Equal(SmallDataset.TrainProducts, m.Stream(StreamNames.Pairs).Samples);
        Assert.Equal(3 * SmallDataset.TrainProducts, m.Stream(StreamNames.Omni).Samples);
        Assert.Equal(SmallDataset.EvalProducts, m.Stream(StreamNames.EvalPairs).Samples);
        Assert.Equal(3 * SmallDataset.EvalProducts, m.Stream(StreamNames.EvalOmni).Samples);
        Assert.Equal(SampleSchema.Omni, m.Stream(StreamNames.Omni).Schema);
        // 240 pairs at 50 per shard: 4 full shards and one of 40.
        Assert.Equal([50, 50, 50, 50, 40], m.Stream(StreamNames.Pairs).Shards.Select(s => s.Samples));
        foreach (var shard in m.Streams.Values.SelectMany(s => s.Shards))
        {
            string path = Path.Combine(built.Directory, shard.File);
            Assert.Equal(shard.Bytes, new FileInfo(path).Length);
            Assert.Equal(shard.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        }
        Assert.False(File.Exists(Path.Combine(built.Directory, "tokenizer-corpus.txt")));
    }

    [Fact]
    public async Task BuildAsync_OmniSamples_HaveModalitiesOfTheirKind()
    {
        var built = await SmallDataset.GetAsync();
        var m = built.Manifest;
        using var reader = ShardReader.Open(built.Directory, m.Stream(StreamNames.Omni).Shards[0]);

        var kinds = Enumerable.Range(0, 3).Select(reader.Read).ToList();
        Assert.EndsWith("-q", kinds[0].Key);
        Assert.NotNull(kinds[0].Part("src.txt"));
        Assert.Null(kinds[0].Part("src.jpg"));
        Assert.EndsWith("-p", kinds[1].Key);
        Assert.NotNull(kinds[1].Part("src.jpg"));
        Assert.Null(kinds[1].Part("src.txt"));
        Assert.EndsWith("-l", kinds[2].Key);
        Assert.NotNull(kinds[2].Part("src.jpg"));
        Assert.NotNull(kinds[2].Part("src.txt"));
        Assert.All(kinds, s => Assert.NotNull(s.Part("tgt.jpg")));
        Assert.All(kinds, s => Assert.NotNull(s.Part("tgt.txt")));
    }

    [Fact]
    public async Task BuildAsync_WhileAnotherBuildHoldsTheFolder_WaitsSayingSo_ThenBuilds()
    {
        using var dir = new TempDirectory("locked");
        var options = SmallDataset.Options(dir.Path);
        options.TrainLimit = 20;
        options.EvalLimit = 10;
        options.VocabSize = 200;
        var stages = new System.Collections.Concurrent.ConcurrentQueue<BuildProgress>();
        var progress = new SynchronousProgress<BuildProgress>(stages.Enqueue);

        Task<BuildResult> waiting;
        using (new FileStream(Path.Combine(dir.Path, ".build.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            waiting = FashionDatasetBuilder.BuildAsync(options, progress);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.False(waiting.IsCompleted, waiting.Exception?.ToString());
            Assert.Equal([BuildStage.Waiting], stages.Select(p => p.Stage));
            Assert.Contains($"another build of {dir.Path} is running", stages.Single().Message, StringComparison.Ordinal);
        }

        var built = await waiting;
        Assert.False(built.UpToDate);
        Assert.True(File.Exists(Path.Combine(dir.Path, DatasetManifest.FileName)));
    }

    [Fact]
    public async Task BuildAsync_SameOptionsTwice_SecondIsNoOpAndOutputIsByteIdentical()
    {
        using var dir = new TempDirectory("rebuild");
        var options = SmallDataset.Options(dir.Path);
        options.TrainLimit = 30;
        options.EvalLimit = 10;
        options.VocabSize = 200;
        options.Workers = 1; // a different worker count than the shared corpus: output must not depend on it
        var shared = await SmallDataset.GetAsync();

        var first = await FashionDatasetBuilder.BuildAsync(options);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(dir.Path, DatasetManifest.FileName));
        var second = await FashionDatasetBuilder.BuildAsync(options);

        Assert.False(first.UpToDate);
        Assert.True(second.UpToDate);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(dir.Path, DatasetManifest.FileName)));
        // The first 30 train products are a prefix of the shared corpus: same bytes for the same samples.
        using var small = ShardReader.Open(dir.Path, first.Manifest.Stream(StreamNames.Pairs).Shards[0]);
        using var big = ShardReader.Open(shared.Directory, shared.Manifest.Stream(StreamNames.Pairs).Shards[0]);
        for (int i = 0; i < 30; i++)
        {
            var a = small.Read(i);
            var b = big.Read(i);
            Assert.Equal(b.Key, a.Key);
            Assert.Equal(b.Part("jpg"), a.Part("jpg"));
            Assert.Equal(b.Part("txt"), a.Part("txt"));
        }
    }

    [Fact]
    public async Task BuildAsync_FolderWithOtherDataSet_RefusesWithoutOverwrite()
    {
        using var dir = new TempDirectory("other");
        var options = SmallDataset.Options(dir.Path);
        options.TrainLimit = 12;
        options.EvalLimit = 4;
        options.VocabSize = 120;
        await FashionDatasetBuilder.BuildAsync(options);

        options.Seed += 1;
        var error = await Assert.ThrowsAsync<DatasetException>(() => FashionDatasetBuilder.BuildAsync(options));
        Assert.Contains(dir.Path, error.Message);
        Assert.Contains("--overwrite", error.Message);
    }

    [Fact]
    public async Task BuildAsync_Progress_ReportsEveryStageEndingWithDone()
    {
        using var dir = new TempDirectory("progress");
        var options = SmallDataset.Options(dir.Path);
        options.TrainLimit = 12;
        options.EvalLimit = 4;
        options.VocabSize = 120;
        var reports = new List<BuildProgress>();
        var progress = new SynchronousProgress<BuildProgress>(reports.Add);

        await FashionDatasetBuilder.BuildAsync(options, progress);

        Assert.Equal([BuildStage.Reading, BuildStage.Train, BuildStage.Eval, BuildStage.Tokenizer, BuildStage.Manifest, BuildStage.Done],
            reports.Select(r => r.Stage).Distinct());
        Assert.Contains(reports, r => r.Stage == BuildStage.Train && r.Completed == 12 && r.Total == 12);
    }

    [Fact]
    public async Task BuildAsync_MissingSource_ErrorNamesPackageAndWritesNothing()
    {
        using var dir = new TempDirectory("nosource");
        using var empty = new TempDirectory("emptysource");
        var options = SmallDataset.Options(Path.Combine(dir.Path, "out"));
        options.SourceDirectory = empty.Path;

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => FashionDatasetBuilder.BuildAsync(options));
        Assert.Contains("dataset-fashion-mnist", error.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "out")));
    }

    [Theory]
    [InlineData("vocab")]
    [InlineData("shard")]
    [InlineData("quality")]
    [InlineData("limit")]
    public async Task BuildAsync_BadOption_ErrorNamesTheOption(string which)
    {
        using var dir = new TempDirectory("badoption");
        var options = SmallDataset.Options(dir.Path);
        string expected;
        switch (which)
        {
            case "vocab": options.VocabSize = 3; expected = "VocabSize"; break;
            case "shard": options.SamplesPerShard = 0; expected = "SamplesPerShard"; break;
            case "quality": options.JpegQuality = 101; expected = "JpegQuality"; break;
            default: options.TrainLimit = 0; expected = "TrainLimit"; break;
        }
        var error = await Assert.ThrowsAsync<ArgumentException>(() => FashionDatasetBuilder.BuildAsync(options));
        Assert.Contains(expected, error.Message);
    }
}
