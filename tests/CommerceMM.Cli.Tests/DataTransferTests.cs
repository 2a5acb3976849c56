using CommerceMM.Data.Format;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Cli.Tests;

/// <summary>`cmm data push` and `cmm data pull` between a local folder and a real Azurite server, with the small corpus.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class DataTransferTests(SmallCorpus corpus, AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly string _scratch = Directory.CreateTempSubdirectory("cmm-e2e-data-transfer-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private (int Exit, string Output) Cmm(params string[] args)
    {
        using var cmm = new CmmProcess(AzuriteForCmm.Environment(azurite), args);
        return (cmm.WaitForExit(Patience), cmm.Output);
    }

    private static IEnumerable<string> DataSetFiles(string directory) =>
        DatasetManifest.Read(directory).Files().Select(f => f.File).Append(DatasetManifest.FileName);

    [Fact]
    public void PushThenPull_GivesTheSameFiles_AndAgainCopiesNothing_AndAPullCutShortGoesOn()
    {
        string remote = $"azure:cmm-data-{Guid.NewGuid():N}/datasets/small";   // the push creates the container
        string pulled = Path.Combine(_scratch, "pulled");

        var push = Cmm("data", "push", corpus.Directory, remote);
        Assert.True(push.Exit == 0, push.Output);
        var pull = Cmm("data", "pull", remote, "--out", pulled);
        Assert.True(pull.Exit == 0, pull.Output);
        foreach (string file in DataSetFiles(corpus.Directory))
            Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, file)), File.ReadAllBytes(Path.Combine(pulled, file)));

        Assert.Contains($"{remote}: already holds this data set", Cmm("data", "push", corpus.Directory, remote).Output);
        Assert.Contains($"{pulled}: already holds this data set", Cmm("data", "pull", remote, "--out", pulled).Output);

        // A pull stopped part-way: no dataset.json yet, one shard missing. The next fetches only that shard.
        File.Delete(Path.Combine(pulled, DatasetManifest.FileName));
        var shard = DatasetManifest.Read(corpus.Directory).Streams[StreamNames.Pairs].Shards[^1];
        File.Delete(Path.Combine(pulled, shard.File));
        var resumed = Cmm("data", "pull", remote, "--out", pulled);
        Assert.True(resumed.Exit == 0, resumed.Output);
        Assert.Contains($"({DataSetFiles(corpus.Directory).Count() - 2} already here from a pull cut short)", resumed.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, shard.File)), File.ReadAllBytes(Path.Combine(pulled, shard.File)));
    }

    [Fact]
    public async Task Pull_OfACorruptShard_FailsNamingIt_AndLeavesNoDataSet()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        string remote = $"azure:{store.Container}/small";
        Assert.Equal(0, Cmm("data", "push", corpus.Directory, remote).Exit);
        var omni = DatasetManifest.Read(corpus.Directory).Streams[StreamNames.Omni].Shards[0];
        await AzuriteForCmm.ReplaceAsync(store, "small/" + omni.File, new byte[omni.Bytes]);
        string pulled = Path.Combine(_scratch, "pulled");

        var pull = Cmm("data", "pull", remote, "--out", pulled);

        Assert.Equal(2, pull.Exit);
        Assert.Contains($"cmm: data set problem: {remote}: ", pull.Output);
        Assert.Contains(omni.File, pull.Output);
        Assert.False(File.Exists(Path.Combine(pulled, DatasetManifest.FileName)));
        Assert.False(File.Exists(Path.Combine(pulled, omni.File)));
        Assert.False(File.Exists(Path.Combine(pulled, omni.File + ".part")));
    }

    [Fact]
    public async Task Push_OfACorruptLocalDataSet_IsRefusedNamingTheFile_AndUploadsNothing()
    {
        string copy = Path.Combine(_scratch, "copy");
        foreach (string file in DataSetFiles(corpus.Directory))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, file))!);
            File.Copy(Path.Combine(corpus.Directory, file), Path.Combine(copy, file));
        }
        var shard = DatasetManifest.Read(copy).Streams[StreamNames.Pairs].Shards[0];
        using (var f = File.OpenWrite(Path.Combine(copy, shard.File))) { f.Position = 100; f.WriteByte(0x5A); }
        var store = await azurite.CreateStoreWithNewContainerAsync();

        var push = Cmm("data", "push", copy, $"azure:{store.Container}/small");

        Assert.Equal(2, push.Exit);
        Assert.Contains($"'{shard.File}' in {copy} failed its SHA-256 check: rebuild the data set, or see `cmm data inspect {copy}`", push.Output);
        Assert.Empty(await store.ListAsync("").ToListAsync());
    }

    [Fact]
    public void NotAnAzureFolder_IsOneLineSayingWhatWorks()
    {
        var push = Cmm("data", "push", corpus.Directory, "/mnt/shared/data");
        Assert.Equal(2, push.Exit);
        Assert.Contains("cmm: destination '/mnt/shared/data' is not azure:CONTAINER/PATH; between folders, copy with cp -r (dataset.json last)", push.Output);
        var root = Cmm("data", "push", corpus.Directory, "azure:checkpoints");
        Assert.Equal(2, root.Exit);
        Assert.Contains("cmm: destination 'azure:checkpoints' names no folder in the container: push to azure:CONTAINER/PATH", root.Output);
    }

    [Fact]
    public async Task Push_OverAnotherDataSet_DeletesOnlyTheFilesOfTheOneItReplaces()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        string remote = $"azure:{store.Container}/shared";
        // The earlier data set: the small corpus with one more shard than the new one will have, and a file of someone else's.
        var manifest = DatasetManifest.Read(corpus.Directory);
        var pairs = manifest.Streams[StreamNames.Pairs];
        var extra = pairs.Shards[0] with { File = "pairs/shard-000099.tar", Index = pairs.Shards[0].Index with { File = "pairs/shard-000099.idx" } };
        var earlier = manifest with { Streams = new Dictionary<string, StreamInfo>(manifest.Streams) { [StreamNames.Pairs] = pairs with { Shards = [.. pairs.Shards, extra] } } };
        string earlierDir = Path.Combine(_scratch, "earlier");
        foreach (string file in DataSetFiles(corpus.Directory))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(earlierDir, file))!);
            File.Copy(Path.Combine(corpus.Directory, file), Path.Combine(earlierDir, file));
        }
        File.Copy(Path.Combine(earlierDir, pairs.Shards[0].File), Path.Combine(earlierDir, extra.File));
        File.Copy(Path.Combine(earlierDir, pairs.Shards[0].Index.File), Path.Combine(earlierDir, extra.Index.File));
        earlier.Write(earlierDir);
        Assert.True(Cmm("data", "push", earlierDir, remote).Exit == 0);
        await AzuriteForCmm.ReplaceAsync(store, "shared/notes.txt", "not the data set's"u8.ToArray());

        var push = Cmm("data", "push", corpus.Directory, remote);

        Assert.True(push.Exit == 0, push.Output);
        Assert.Contains("deleted 2 file(s) of the data set that was there before", push.Output);
        var keys = await store.ListAsync("shared/").Select(b => b.Key).ToListAsync();
        Assert.Contains("shared/notes.txt", keys);
        Assert.DoesNotContain("shared/" + extra.File, keys);
        Assert.Equal(DataSetFiles(corpus.Directory).Select(f => "shared/" + f).Append("shared/notes.txt").Order(), keys.Order());
    }

    [Fact]
    public void TrainAndEval_OnAPushedDataSet_FetchShardsAsTheyReadThem_IntoTheCacheFolder()
    {
        string remote = $"azure:cmm-data-{Guid.NewGuid():N}/datasets/small";
        Assert.Equal(0, Cmm("data", "push", corpus.Directory, remote).Exit);
        string cache = Path.Combine(_scratch, "cache"), runs = Path.Combine(_scratch, "runs");
        string[] overrides = [.. TrainingArgs.Overrides("e2e-remote-data", remote, runs, steps: 4, batch: 8, every: 4), "--set", $"data.cache_dir={cache}"];

        var train = Cmm(["train", .. overrides]);

        Assert.True(train.Exit == 0, train.Output);
        Assert.Contains("job e2e-remote-data: Completed", train.Output);
        var manifest = DatasetManifest.Read(corpus.Directory);
        foreach (var shard in manifest.Streams[StreamNames.Pairs].Shards.Concat(manifest.Streams[StreamNames.Omni].Shards))
            Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, shard.File)), File.ReadAllBytes(Path.Combine(cache, shard.File)));
        Assert.False(Directory.Exists(Path.Combine(cache, StreamNames.EvalPairs)), "training fetched the held-out products it never reads");

        var eval = Cmm(["eval", .. overrides, "--limit", "20", "--probe-items", "20"]);

        Assert.True(eval.Exit == 0, eval.Output);
        Assert.Contains("query_to_product", eval.Output);
        foreach (var shard in manifest.Streams[StreamNames.EvalPairs].Shards)
            Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, shard.File)), File.ReadAllBytes(Path.Combine(cache, shard.File)));
    }

    [Fact]
    public async Task Train_OnAnAzureFolderWithNoDataSet_OrNoContainer_OrAnUnwritableCache_IsOneLineNamingTheFix()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        string empty = $"azure:{store.Container}/datasets/none", noContainer = $"azure:cmm-none-{Guid.NewGuid():N}/datasets/small";
        string cache = Path.Combine(_scratch, "cache");

        var train = Cmm("train", "--set", $"data.dir={empty}", "--set", $"data.cache_dir={cache}");
        var missing = Cmm("train", "--set", $"data.dir={noContainer}", "--set", $"data.cache_dir={cache}");
        string file = Path.Combine(_scratch, "a-file");
        File.WriteAllText(file, "");
        var unwritable = Cmm("train", "--set", $"data.dir={empty}", "--set", $"data.cache_dir={file}/cache");

        Assert.Equal(2, train.Exit);
        Assert.Contains($"cmm: data set problem: {empty} holds no dataset.json: no data set was pushed there, or its push did not finish (cmm data push DIR {empty})", train.Output);
        Assert.Equal(2, missing.Exit);
        Assert.Contains($"cmm: data set problem: {noContainer}: ", missing.Output);
        Assert.Contains("The container does not exist", missing.Output);
        Assert.Equal(2, unwritable.Exit);
        Assert.Contains($"cmm: invalid job spec: data.cache_dir: '{file}/cache' cannot hold the files of {empty}: ", unwritable.Output);
    }
}
