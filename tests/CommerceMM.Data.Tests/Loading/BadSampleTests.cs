using System.Text;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;
using CommerceMM.Data.Loading;

namespace CommerceMM.Data.Tests.Loading;

/// <summary>Bad samples (truncated JPEG, empty or oversize text, missing modality) are skipped and counted, never fatal.</summary>
public class BadSampleTests
{
    [Fact]
    public async Task NextAsync_PairStreamWithBadSamples_SkipsAndCountsEachReason()
    {
        using var dir = new TempDirectory("badpairs");
        var (good, jpeg) = await SeedAsync(dir.Path);
        var pairs = new ShardWriter(dir.Path, "pairs", SampleSchema.Pair, samplesPerShard: 100);
        void Add(string key, byte[]? image, string? text)
        {
            var parts = new Dictionary<string, byte[]> { ["json"] = "{\"category\":3}"u8.ToArray() };
            if (image is not null) parts["jpg"] = image;
            if (text is not null) parts["txt"] = Encoding.UTF8.GetBytes(text);
            pairs.Add(new ShardSample(key, parts));
        }
        for (int i = 0; i < 4; i++) Add($"good{i}", jpeg, good);
        Add("truncated", jpeg[..(jpeg.Length / 2)], good);
        // A corrupt header claiming 60000 x 50000 pixels: refused before decoding, skipped like any undecodable image.
        byte[] huge = jpeg.ToArray();
        int frame = huge.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        (huge[frame + 5], huge[frame + 6], huge[frame + 7], huge[frame + 8]) = (50000 >> 8, 50000 & 0xFF, 60000 >> 8, 60000 & 0xFF);
        Add("hugeheader", huge, good);
        Add("empty", jpeg, "   ");
        Add("oversize", jpeg, new string('x', 5000));
        Add("noimage", null, good);
        Add("badutf8", jpeg, null);
        pairs.Add(new ShardSample("badutf8b", new Dictionary<string, byte[]> { ["jpg"] = jpeg, ["txt"] = [0xC3, 0x28] }));
        WriteManifest(dir.Path, StreamNames.Pairs, pairs.Finish());
        pairs.Dispose();

        await using var loader = DataLoader.Pairs(new LoaderOptions { DatasetDirectory = dir.Path, BatchSize = 11, MaxTextBytes = 4096 }); // one sample per row written
        using var batch = await loader.NextAsync();

        Assert.Equal(4, batch.Count);
        Assert.All(batch.Keys, k => Assert.StartsWith("good", k));
        Assert.Equal([4L, 1, 28, 28], batch.Images.shape);
        Assert.Equal(2, loader.Stats.SkippedFor(SkipReason.UndecodableImage)); // truncated; huge header
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.EmptyText));
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.OversizeText));
        Assert.Equal(2, loader.Stats.SkippedFor(SkipReason.MissingModality)); // no image; no text
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.InvalidText));
        Assert.Equal(7, loader.Stats.Skipped);
        Assert.True(batch.EndOfEpoch);
    }

    [Fact]
    public async Task NextAsync_OmniSampleWithoutItsKindsModality_SkippedAsMissingModality()
    {
        using var dir = new TempDirectory("badomni");
        var (good, jpeg) = await SeedAsync(dir.Path);
        var omni = new ShardWriter(dir.Path, "omni", SampleSchema.Omni, samplesPerShard: 100);
        void Add(string key, string kind, bool srcImage, bool srcText) =>
            omni.Add(new ShardSample(key, new Dictionary<string, byte[]>
            {
                ["json"] = Encoding.UTF8.GetBytes($"{{\"kind\":\"{kind}\",\"category\":1}}"),
                ["tgt.jpg"] = jpeg,
                ["tgt.txt"] = Encoding.UTF8.GetBytes(good),
            }.Concat(srcImage ? [new("src.jpg", jpeg)] : Array.Empty<KeyValuePair<string, byte[]>>())
             .Concat(srcText ? [new("src.txt", "dark dress"u8.ToArray())] : Array.Empty<KeyValuePair<string, byte[]>>())
             .ToDictionary()));
        Add("q", "query", false, true);
        Add("p", "photo", true, false);
        Add("l", "listing", true, true);
        Add("listingNoText", "listing", true, false);
        Add("queryWithImage", "query", true, true);
        Add("unknownKind", "video", false, true);
        WriteManifest(dir.Path, StreamNames.Omni, omni.Finish());
        omni.Dispose();

        await using var loader = DataLoader.Omni(new LoaderOptions { DatasetDirectory = dir.Path, Stream = StreamNames.Omni, BatchSize = 10 });
        using var batch = await loader.NextAsync();

        Assert.Equal(["l", "p", "q"], batch.Keys.Order());
        Assert.Equal(2, loader.Stats.SkippedFor(SkipReason.MissingModality));
        Assert.Equal(1, loader.Stats.SkippedFor(SkipReason.BadMetadata));
    }

    /// <summary>A real JPEG and text, and the shared corpus's tokenizer copied in.</summary>
    private static async Task<(string Text, byte[] Jpeg)> SeedAsync(string root)
    {
        var shared = await SmallDataset.GetAsync();
        File.Copy(Path.Combine(shared.Directory, shared.Manifest.Tokenizer.File), Path.Combine(root, shared.Manifest.Tokenizer.File));
        var photo = Data.Fashion.FashionMnistReader.Read(Data.Fashion.FashionMnistReader.DefaultDirectory, Data.Fashion.FashionSplit.Test, 1)[0].Image;
        using var codec = new JpegCodec();
        return ("Nordvik dark patterned dress. A fine dress.", codec.EncodeGray(photo));
    }

    private static void WriteManifest(string root, string stream, StreamInfo info)
    {
        var tokenizer = Sha256File.Describe(root, "tokenizer.model");
        new DatasetManifest
        {
            Name = "bad-samples",
            Fingerprint = "test",
            Modalities = [Modality.Image, Modality.Text],
            Image = new ImageSpec(28, 28, 1, 0.286f, 0.353f),
            Tokenizer = new TokenizerSpec("tokenizer.model", "sentencepiece-unigram", 400, tokenizer.Bytes, tokenizer.Sha256),
            Counts = new Dictionary<string, long> { [stream] = info.Samples },
            Streams = new Dictionary<string, StreamInfo> { [stream] = info },
        }.Write(root);
    }
}
