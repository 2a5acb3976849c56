using System.Formats.Tar;
using CommerceMM.Data.Format;

namespace CommerceMM.Data.Tests.Format;

public class ShardFormatTests
{
    [Fact]
    public void WriteThenRead_RandomAccess_ReturnsEachSampleByIndex()
    {
        using var dir = new TempDirectory("shards");
        StreamInfo info;
        using (var writer = new ShardWriter(dir.Path, "pairs", SampleSchema.Pair, samplesPerShard: 4))
        {
            for (int i = 0; i < 10; i++)
                writer.Add(new ShardSample($"s{i}", new Dictionary<string, byte[]> { ["txt"] = System.Text.Encoding.UTF8.GetBytes($"text {i}"), ["json"] = "{}"u8.ToArray() }));
            info = writer.Finish();
        }

        Assert.Equal(10, info.Samples);
        Assert.Equal([4, 4, 2], info.Shards.Select(s => s.Samples));
        using var reader = ShardReader.Open(dir.Path, info.Shards[1]);
        Assert.Equal("s6", reader.Read(2).Key);
        Assert.Equal("text 6", System.Text.Encoding.UTF8.GetString(reader.Read(2).Part("txt")!));
        Assert.Equal("s4", reader.Read(0).Key);
    }

    [Fact]
    public void Shard_IsPlainTar_ReadableWithoutTheIndex()
    {
        using var dir = new TempDirectory("plaintar");
        StreamInfo info;
        using (var writer = new ShardWriter(dir.Path, "pairs", SampleSchema.Pair, samplesPerShard: 10))
        {
            writer.Add(new ShardSample("a", new Dictionary<string, byte[]> { ["txt"] = "x"u8.ToArray() }));
            writer.Add(new ShardSample("b", new Dictionary<string, byte[]> { ["txt"] = "y"u8.ToArray() }));
            info = writer.Finish();
        }

        using var tar = new TarReader(File.OpenRead(Path.Combine(dir.Path, info.Shards[0].File)));
        var names = new List<string>();
        while (tar.GetNextEntry() is { } entry) names.Add(entry.Name);
        Assert.Equal(["a.txt", "b.txt"], names);
    }

    [Fact]
    public void Add_SaysWhereEachPartsBytesLie_InWhichShard()
    {
        using var dir = new TempDirectory("stored");
        var written = new List<StoredPart>();
        using (var writer = new ShardWriter(dir.Path, "omni", SampleSchema.Omni, samplesPerShard: 2))
        {
            // Sizes around tar's 512-byte blocks, where padding decides the next entry's place.
            foreach (int size in new[] { 0, 1, 511, 512, 513, 2000 })
                written.AddRange(writer.Add(new ShardSample($"s{size}", new Dictionary<string, byte[]>
                {
                    ["src.jpg"] = Enumerable.Range(0, size).Select(i => (byte)(i * 7 + size)).ToArray(),
                    ["json"] = System.Text.Encoding.UTF8.GetBytes($"{{\"size\": {size}}}"),
                })));
            writer.Finish();
        }

        Assert.Equal(12, written.Count);
        Assert.Equal(["omni/shard-000000.tar", "omni/shard-000001.tar", "omni/shard-000002.tar"], written.Select(p => p.File).Distinct());
        foreach (var part in written)
        {
            using var file = File.OpenHandle(Path.Combine(dir.Path, part.File));
            var bytes = new byte[part.Bytes.Length];
            Assert.Equal(bytes.Length, RandomAccess.Read(file, bytes, part.Offset));
            Assert.Equal(part.Bytes, bytes);
        }
    }

    [Fact]
    public void Add_DuplicateKey_ThrowsNamingTheKey()
    {
        using var dir = new TempDirectory("dupkey");
        using var writer = new ShardWriter(dir.Path, "pairs", SampleSchema.Pair, samplesPerShard: 10);
        writer.Add(new ShardSample("same", new Dictionary<string, byte[]> { ["txt"] = "x"u8.ToArray() }));

        var error = Assert.Throws<DatasetException>(() => writer.Add(new ShardSample("same", new Dictionary<string, byte[]> { ["txt"] = "y"u8.ToArray() })));
        Assert.Contains("'same'", error.Message);
    }

    [Theory]
    [InlineData("has.dot")]
    [InlineData("")]
    [InlineData("slash/key")]
    public void ShardSample_BadKey_Throws(string key)
    {
        Assert.Throws<DatasetException>(() => new ShardSample(key, new Dictionary<string, byte[]>()));
    }

    [Fact]
    public async Task Open_FlippedByteInShard_ErrorNamesShardExpectedAndActual()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("corrupt");
        TempDirectory.CopyTree(shared.Directory, dir.Path);
        var manifest = DatasetManifest.Read(dir.Path);
        var shard = manifest.Stream(StreamNames.Pairs).Shards[2];
        string path = Path.Combine(dir.Path, shard.File);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ShardCorruptException>(() => ShardReader.Open(dir.Path, shard));
        Assert.Contains("pairs/shard-000002.tar", error.Message);
        Assert.Contains(shard.Sha256, error.Message);
        Assert.Contains("actual", error.Message);
    }

    [Fact]
    public async Task Read_MissingManifest_SaysBuildDidNotFinish()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("nomanifest");
        TempDirectory.CopyTree(shared.Directory, dir.Path);
        File.Delete(Path.Combine(dir.Path, DatasetManifest.FileName));

        var error = Assert.Throws<DatasetException>(() => DatasetManifest.Read(dir.Path));
        Assert.Contains("did not finish", error.Message);
    }

    [Fact]
    public async Task Read_NewerVersionOrUnknownModality_RefusedByName()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("version");
        File.WriteAllText(Path.Combine(dir.Path, DatasetManifest.FileName),
            File.ReadAllText(Path.Combine(shared.Directory, DatasetManifest.FileName)).Replace("\"version\": 1", "\"version\": 99"));
        Assert.Contains("version 99", Assert.Throws<DatasetException>(() => DatasetManifest.Read(dir.Path)).Message);

        File.WriteAllText(Path.Combine(dir.Path, DatasetManifest.FileName),
            File.ReadAllText(Path.Combine(shared.Directory, DatasetManifest.FileName)).Replace("\"text\"", "\"smell\""));
        Assert.Contains("'smell'", Assert.Throws<DatasetException>(() => DatasetManifest.Read(dir.Path)).Message);
    }

    [Fact]
    public async Task Stream_UnknownName_ErrorListsKnownStreams()
    {
        var shared = await SmallDataset.GetAsync();
        var error = Assert.Throws<DatasetException>(() => shared.Manifest.Stream("video"));
        Assert.Contains("'video'", error.Message);
        Assert.Contains("pairs", error.Message);
    }
}

public class DatasetInspectorTests
{
    [Fact]
    public async Task Inspect_FinishedDataSet_VerifiesEveryShardAndShowsExamplesPerStream()
    {
        var shared = await SmallDataset.GetAsync();

        var report = DatasetInspector.Inspect(shared.Directory, examplesPerStream: 2);

        Assert.Equal(shared.Manifest.Streams.Values.Sum(s => s.Shards.Count), report.ShardsVerified);
        Assert.Equal(8, report.Examples.Count);
        Assert.All(report.Examples.Where(e => e.Stream == StreamNames.Pairs), e => Assert.Contains("txt", e.Texts.Keys));
        Assert.All(report.Examples.Where(e => e.Stream == StreamNames.Omni), e => Assert.Contains("tgt.jpg", e.PartBytes.Keys));
    }

    [Fact]
    public async Task Inspect_TruncatedIndex_ThrowsNamingTheIndex()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("inspectbad");
        TempDirectory.CopyTree(shared.Directory, dir.Path);
        var index = shared.Manifest.Stream(StreamNames.EvalOmni).Shards[0].Index;
        string path = Path.Combine(dir.Path, index.File);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^16]);

        var error = Assert.Throws<ShardCorruptException>(() => DatasetInspector.Inspect(dir.Path));
        Assert.Contains("eval_omni/shard-000000.idx", error.Message);
        Assert.Contains("size", error.Message);
    }
}

public class ShardSizeCheckTests
{
    [Fact]
    public async Task CheckSizes_WholeDataSet_Passes()
    {
        var shared = await SmallDataset.GetAsync();
        ShardReader.CheckSizes(shared.Directory, shared.Manifest);
    }

    [Fact]
    public async Task CheckSizes_ATruncatedShard_NamesItTheFolderAndTheRemedy()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("sizes");
        TempDirectory.CopyTree(shared.Directory, dir.Path);
        var shard = shared.Manifest.Stream(StreamNames.Omni).Shards[^1];
        using (var file = new FileStream(Path.Combine(dir.Path, shard.File), FileMode.Open)) file.SetLength(shard.Bytes - 512);

        var error = Assert.Throws<ShardCorruptException>(() => ShardReader.CheckSizes(dir.Path, shared.Manifest));
        Assert.Equal($"'{shard.File}' failed its size check: expected {shard.Bytes} bytes, actual {shard.Bytes - 512}; data set '{dir.Path}': " +
                     "rebuild it (cmm data build … --out DIR --overwrite) or restore the folder from a copy", error.Message);
    }

    [Fact]
    public async Task CheckSizes_AMissingIndex_IsNamed()
    {
        var shared = await SmallDataset.GetAsync();
        using var dir = new TempDirectory("sizes");
        TempDirectory.CopyTree(shared.Directory, dir.Path);
        var index = shared.Manifest.Stream(StreamNames.Pairs).Shards[0].Index;
        File.Delete(Path.Combine(dir.Path, index.File));

        var error = Assert.Throws<DatasetException>(() => ShardReader.CheckSizes(dir.Path, shared.Manifest));
        Assert.StartsWith($"'{index.File}' is missing from '{dir.Path}'", error.Message);
    }
}
