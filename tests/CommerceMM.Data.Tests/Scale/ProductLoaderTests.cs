using System.Text;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Data.Scale;

namespace CommerceMM.Data.Tests.Scale;

/// <summary>SCALE's product stream through the shared sharded loader: exactly-once resume, and bad products skipped and counted, never handed to the model.</summary>
public class ProductLoaderTests : IClassFixture<ProductLoaderTests.Corpus>
{
    /// <summary>One small five-modality corpus (40 products, 6 with audio) for the class.</summary>
    public sealed class Corpus : IAsyncLifetime
    {
        private readonly TempDirectory _folder = new("scale-loader");
        public string Directory => _folder.Path;
        public DatasetManifest Manifest { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await ScaleDatasetBuilder.BuildAsync(ScaleDatasetBuilderTests.Options(Directory));
            Manifest = DatasetManifest.Read(Directory);
        }

        public Task DisposeAsync()
        {
            _folder.Dispose();
            return Task.CompletedTask;
        }
    }

    private readonly Corpus _corpus;

    public ProductLoaderTests(Corpus corpus) => _corpus = corpus;

    private LoaderOptions Options(int rank, int world, LoaderPosition? resume = null, IReadOnlyList<string>? modalities = null, string? directory = null, int batch = 4) => new()
    {
        DatasetDirectory = directory ?? _corpus.Directory, Stream = StreamNames.Products, BatchSize = batch, Seed = 5,
        Rank = rank, WorldSize = world, Resume = resume, Modalities = modalities,
    };

    [Fact]
    public async Task Resume_OnAnotherWorldSize_SeesEveryProductOfTheEpochExactlyOnce()
    {
        var seen = new List<string>();
        LoaderPosition saved = null!;
        for (int rank = 0; rank < 2; rank++)
        {
            await using var loader = DataLoader.Products(Options(rank, 2));
            for (int step = 0; step < 3; step++)
            {
                using var batch = await loader.NextAsync();
                seen.AddRange(batch.Keys);
            }
            saved = loader.Position;
        }
        Assert.Equal(24, seen.Count);

        await using (var resumed = DataLoader.Products(Options(0, 1, saved)))
        {
            while (true)
            {
                using var batch = await resumed.NextAsync();
                seen.AddRange(batch.Keys);
                if (batch.EndOfEpoch) break;
            }
        }
        Assert.Equal(40, seen.Count);
        Assert.Equal(40, seen.Distinct().Count());
    }

    [Fact]
    public async Task NextAsync_OnlyAudioUsed_ProductsWithoutAudioAreSkippedAsNoUsableModality()
    {
        await using var loader = DataLoader.Products(Options(0, 1, modalities: [Modality.Audio], batch: 40));
        using var batch = await loader.NextAsync();

        Assert.Equal(6, batch.Count);
        Assert.Equal(34, loader.Stats.SkippedFor(SkipReason.NoUsableModality));
        Assert.All(batch.Present.data<bool>().ToArray().Chunk(5), row => Assert.Equal([false, false, false, false, true], row));
    }

    [Fact]
    public async Task NextAsync_BadProducts_AreSkippedWithTheirReasonAndTheGoodOnesDelivered()
    {
        using var bad = new TempDirectory("scale-bad");
        using var shards = new ShardSet(_corpus.Directory, _corpus.Manifest.Stream(StreamNames.Products), verify: true);
        var withAudio = Enumerable.Range(0, shards.Count).Select(shards.Read).First(s => s.Part(ScaleProducts.MelPart) is not null);
        var withVideo = Enumerable.Range(0, shards.Count).Select(shards.Read).First(s => s.Part(ScaleProducts.FramePart(0)) is not null && s.Key != withAudio.Key);
        int mels = ScaleShapes.Mels(_corpus.Manifest), maxFrames = ScaleShapes.MaxAudioFrames(_corpus.Manifest);

        var writer = new ShardWriter(bad.Path, StreamNames.Products, SampleSchema.Product, samplesPerShard: 100);
        writer.Add(withAudio);
        writer.Add(withVideo);
        writer.Add(Changed(withAudio, "nothing", parts => parts[ScaleProducts.MetaPart] = Encoding.UTF8.GetBytes("{\"category\":1,\"modalities\":[]}")));
        writer.Add(Changed(withAudio, "longaudio", parts => parts[ScaleProducts.MelPart] = new byte[(maxFrames + 1) * mels * sizeof(float)]));
        writer.Add(Changed(withAudio, "raggedaudio", parts => parts[ScaleProducts.MelPart] = new byte[(mels + 1) * sizeof(float)]));
        writer.Add(Changed(withVideo, "shortvideo", parts => parts.Remove(ScaleProducts.FramePart(1))));
        writer.Add(Changed(withVideo, "notjson", parts => parts[ScaleProducts.MetaPart] = "{"u8.ToArray()));
        writer.Add(Changed(withVideo, "listedimage", parts => parts.Remove(ScaleProducts.ImagePart)));
        var stream = writer.Finish();
        writer.Dispose();
        File.Copy(Path.Combine(_corpus.Directory, _corpus.Manifest.Tokenizer.File), Path.Combine(bad.Path, _corpus.Manifest.Tokenizer.File));
        (_corpus.Manifest with { Streams = new Dictionary<string, StreamInfo> { [StreamNames.Products] = stream } }).Write(bad.Path);

        await using var loader = DataLoader.Products(Options(0, 1, directory: bad.Path, batch: 8));
        using var batch = await loader.NextAsync();

        Assert.Equal(new[] { withAudio.Key, withVideo.Key }.Order(StringComparer.Ordinal), batch.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.NoUsableModality));
        Assert.Equal(3, loader.Stats.SkippedFor(SkipReason.LengthOutOfRange));
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.BadMetadata));
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.MissingModality));
        Assert.Equal(6, loader.Stats.Skipped);
    }

    private static ShardSample Changed(ShardSample original, string key, Action<Dictionary<string, byte[]>> change)
    {
        var parts = new Dictionary<string, byte[]>(original.Parts);
        change(parts);
        return new ShardSample(key, parts);
    }
}
