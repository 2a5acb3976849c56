using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Worker.DataSets;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// A data set read from a blob store through a cache folder that fills as the loader reads (data.dir: azure:…), on the
/// file store: the same store interface Azure implements (the Azurite run is in <see cref="DataTransferTests"/>).
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class RemoteDataSetTests(SmallCorpus corpus) : IDisposable
{
    private const string Prefix = "datasets/small/";
    private readonly string _scratch = Directory.CreateTempSubdirectory("cmm-remote-data-").FullName;
    private string Cache => Path.Combine(_scratch, "cache");

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    /// <summary>The small corpus, put file by file under <see cref="Prefix"/> of a file store, as `cmm data push` lays it out.</summary>
    private async Task<FileBlobStore> PushedStoreAsync()
    {
        var store = new FileBlobStore(Path.Combine(_scratch, "store"));
        foreach (string file in DatasetManifest.Read(corpus.Directory).Files().Select(f => f.File).Append(DatasetManifest.FileName))
        {
            await using var content = File.OpenRead(Path.Combine(corpus.Directory, file));
            Assert.True((await store.PutAsync(Prefix + file, content)).Succeeded);
        }
        return store;
    }

    private Task<RemoteDataSet> OpenAsync(FileBlobStore store) => RemoteDataSet.OpenAsync(store, Prefix, "the test store", Cache, CancellationToken.None);

    private static LoaderOptions Pairs(string directory) => new() { DatasetDirectory = directory, BatchSize = 16, Seed = 7, WorldSize = 2, Rank = 1 };

    private IEnumerable<string> ShardsInCache() =>
        Directory.Exists(Path.Combine(Cache, "pairs")) ? Directory.EnumerateFiles(Path.Combine(Cache, "pairs")) : [];

    [Fact]
    public async Task Opening_FetchesOnlyDatasetJsonAndTokenizer_ThenTheLoaderReadsWhatItReadsLocally()
    {
        var store = await PushedStoreAsync();
        using var remote = await OpenAsync(store);

        Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, DatasetManifest.FileName)), File.ReadAllBytes(Path.Combine(Cache, DatasetManifest.FileName)));
        Assert.Equal(1, remote.Fetched);   // the tokenizer
        Assert.Empty(ShardsInCache());

        await using (var local = DataLoader.Pairs(Pairs(corpus.Directory)))
        await using (var cached = DataLoader.Pairs(Pairs(remote.Folder)))
            for (int step = 0; step < 3; step++)
            {
                using var expected = await local.NextAsync();
                using var actual = await cached.NextAsync();
                Assert.Equal(expected.Keys, actual.Keys);
            }

        Assert.NotEmpty(ShardsInCache());
        foreach (string cached in Directory.EnumerateFiles(Cache, "*", SearchOption.AllDirectories).Where(f => !f.Contains(RemoteDataSet.LocksFolder, StringComparison.Ordinal) && Path.GetFileName(f) != RemoteFolders.SourceFile))
        {
            Assert.DoesNotContain(".part", cached, StringComparison.Ordinal);
            Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, Path.GetRelativePath(Cache, cached))), File.ReadAllBytes(cached));
        }
    }

    [Fact]
    public async Task TheLoader_PrefetchesTheShardsItReadsNext_BeforeItNeedsThem()
    {
        // The small corpus's omni stream is one shard: push it as six, copies under other names.
        var store = await PushedStoreAsync();
        var manifest = DatasetManifest.Read(corpus.Directory);
        var omni = manifest.Streams[StreamNames.Omni];
        var first = omni.Shards[0];
        var shards = Enumerable.Range(0, 6).Select(i => first with { File = $"omni/copy-{i}.tar", Index = first.Index with { File = $"omni/copy-{i}.idx" } }).ToList();
        foreach (var shard in shards)
            foreach (var (from, to) in new[] { (first.File, shard.File), (first.Index.File, shard.Index.File) })
                await using (var content = File.OpenRead(Path.Combine(corpus.Directory, from)))
                    Assert.True((await store.PutAsync(Prefix + to, content)).Succeeded);
        string copies = Directory.CreateDirectory(Path.Combine(_scratch, "copies")).FullName;
        (manifest with { Streams = new Dictionary<string, StreamInfo>(manifest.Streams) { [StreamNames.Omni] = omni with { Samples = shards.Count * first.Samples, Shards = shards } } })
            .Write(copies);
        await using (var content = File.OpenRead(Path.Combine(copies, DatasetManifest.FileName)))
            Assert.True((await store.PutAsync(Prefix + DatasetManifest.FileName, content)).Succeeded);
        using var remote = await OpenAsync(store);
        // The epoch's first samples come from the first pieces of its order, which lie in one shard: the loader itself,
        // a batch or two ahead, opens only that one.
        var options = new LoaderOptions { DatasetDirectory = remote.Folder, Stream = StreamNames.Omni, BatchSize = 2, Prefetch = 1, Seed = 7 };

        await using var loader = DataLoader.Omni(options);
        using (await loader.NextAsync()) { }

        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (shards.Any(s => !File.Exists(Path.Combine(Cache, s.File))) && DateTime.UtcNow < deadline) await Task.Delay(50);
        byte[] expected = File.ReadAllBytes(Path.Combine(corpus.Directory, first.File));
        Assert.All(shards, s => Assert.Equal(expected, File.ReadAllBytes(Path.Combine(Cache, s.File))));
    }

    [Fact]
    public async Task ACorruptBlob_FailsTheLoaderNamingIt_AndNothingOfItStaysInTheCache()
    {
        var store = await PushedStoreAsync();
        foreach (var shard in DatasetManifest.Read(corpus.Directory).Streams[StreamNames.Pairs].Shards)
            File.WriteAllBytes(Path.Combine(store.Root, Prefix + shard.File), new byte[shard.Bytes]);
        using var remote = await OpenAsync(store);

        await using var loader = DataLoader.Pairs(Pairs(remote.Folder));
        var error = await Assert.ThrowsAsync<ShardCorruptException>(async () => await loader.NextAsync());

        Assert.Matches(@"'pairs/[^']+\.tar' in the test store is not what its dataset\.json lists .*: push the data set again", error.Message);
        await loader.DisposeAsync();
        remote.Dispose();
        Assert.DoesNotContain(ShardsInCache(), f => f.EndsWith(".tar", StringComparison.Ordinal) || f.EndsWith(".part", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACachedCopyThatNoLongerMatches_IsFetchedAgain_AndAWholeOneIsKept()
    {
        var store = await PushedStoreAsync();
        var manifest = DatasetManifest.Read(corpus.Directory);
        ShardInfo[] shards = [manifest.Streams[StreamNames.Pairs].Shards[0], manifest.Streams[StreamNames.Omni].Shards[0]];
        using (var first = await OpenAsync(store))
        {
            first.Fetch(shards[0].Tar);
            first.Fetch(shards[1].Tar);
        }
        File.WriteAllBytes(Path.Combine(Cache, shards[0].File), new byte[shards[0].Bytes]);   // damaged on this machine's disk

        using var again = await OpenAsync(store);
        again.Fetch(shards[0].Tar);
        again.Fetch(shards[1].Tar);

        Assert.Equal(1, again.Fetched);   // the damaged shard; the tokenizer and the whole shard were kept
        Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, shards[0].File)), File.ReadAllBytes(Path.Combine(Cache, shards[0].File)));
    }

    [Fact]
    public async Task TwoProcessesOfOneMachine_NeedingTheSameShard_FetchItOnce()
    {
        var store = await PushedStoreAsync();
        var shard = DatasetManifest.Read(corpus.Directory).Streams[StreamNames.Omni].Shards[0];
        var file = shard.Tar;
        // Two openings of one cache folder stand for two workers' processes: the lock is a flock, taken per open file.
        using var first = await OpenAsync(store);
        using var second = await OpenAsync(store);
        int before = first.Fetched + second.Fetched;

        await Task.WhenAll(Task.Run(() => first.Fetch(file)), Task.Run(() => second.Fetch(file)));

        Assert.Equal(1, first.Fetched + second.Fetched - before);
        Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, shard.File)), File.ReadAllBytes(Path.Combine(Cache, shard.File)));
    }

    [Fact]
    public async Task TheCacheFolderReadAsALocalDataSet_SaysWhatItIsTheCacheOf_AndHowToCompleteIt()
    {
        var store = await PushedStoreAsync();
        (await OpenAsync(store)).Dispose();   // dataset.json and the tokenizer only

        await using var loader = DataLoader.Pairs(Pairs(Cache));
        var error = await Assert.ThrowsAsync<DatasetException>(async () => await loader.NextAsync());

        Assert.EndsWith($"is missing from '{Cache}'; the folder is the cache of the test store, which fills as it is read: " +
                        $"train on data.dir=the test store, or fetch the rest with `cmm data pull the test store --out {Cache}`", error.Message);
        using var inspect = new CmmProcess(["data", "inspect", Cache]);
        Assert.Equal(1, inspect.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"the folder is the cache of the test store, which fills as it is read: inspect the test store itself, " +
                        $"or fetch the rest with `cmm data pull the test store --out {Cache}`", inspect.Output);
    }

    [Fact]
    public async Task AStoreWithoutDatasetJson_IsRefusedNamingThePush()
    {
        var store = new FileBlobStore(Path.Combine(_scratch, "empty"));

        var error = await Assert.ThrowsAsync<DatasetException>(() => OpenAsync(store));

        Assert.Equal("the test store holds no dataset.json: no data set was pushed there, or its push did not finish (cmm data push DIR the test store)", error.Message);
        Assert.False(File.Exists(Path.Combine(Cache, DatasetManifest.FileName)));
    }
}
