using CommerceMM.Data.Format;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Cli.Tests;

/// <summary>`cmm data inspect` on the small corpora the end-to-end tests train on: locally, on Azurite, and with corrupt files.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class DataInspectTests(SmallCorpus corpus, SmallScaleCorpus scale, AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly string _scratch = Directory.CreateTempSubdirectory("cmm-e2e-data-inspect-").FullName;

    [Fact]
    public void CommerceCorpus_CountsChecksumsAndDecodedExamples()
    {
        var result = Cmm(["data", "inspect", corpus.Directory]);
        Assert.True(result.Exit == 0, result.Output);
        var manifest = DatasetManifest.Read(corpus.Directory);
        int files = 1 + 2 * manifest.Streams.Values.Sum(s => s.Shards.Count);
        foreach (string expected in new[]
                 {
                     $"data set '{manifest.Name}' in {corpus.Directory}", "modalities image, text", "images 28x28x1",
                     $"checksums: all {files} files match dataset.json", "examples from pairs:", "examples from eval_omni:",
                     "jpg: image 28x28", "source text -> target image+text", "categoryName=",
                 })
            Assert.Contains(expected, result.Output);
        Assert.Matches(@"pairs\s+train\s+pair\s+400\s+\d+\s", result.Output);
        Assert.Matches(@"eval_pairs\s+test\s+pair\s+60\s+\d+\s", result.Output);
        Assert.Matches(@"txt: "".+"" \(\d+ tokens\)", result.Output);
    }

    [Fact]
    public void ScaleCorpus_ShowsEveryModality()
    {
        var result = Cmm(["data", "inspect", scale.Directory, "--examples", "3"]);
        Assert.True(result.Exit == 0, result.Output);
        Assert.Contains("examples from products:", result.Output);
        Assert.Matches(@"table\.json: category=[^,]+, brand=", result.Output);
        Assert.Matches(@"video: \d frames, 28x28", result.Output);
        Assert.Matches(@"mel\.f32: audio, \d+ frames x \d+ mel bands", result.Output);
    }

    [Fact]
    public void CorruptShardAndMissingIndex_ExitOne_NamingEach()
    {
        string copy = Path.Combine(_scratch, "data");
        TrainedJob.CopyFolder(corpus.Directory, copy);
        var manifest = DatasetManifest.Read(copy);
        var pairs = manifest.Streams[StreamNames.Pairs].Shards[0];
        var omni = manifest.Streams[StreamNames.Omni].Shards[0];
        using (var shard = new FileStream(Path.Combine(copy, pairs.File), FileMode.Open, FileAccess.ReadWrite))
        {
            shard.Position = 2048;
            int b = shard.ReadByte();
            shard.Position = 2048;
            shard.WriteByte((byte)(b ^ 1));
        }
        File.Delete(Path.Combine(copy, omni.Index.File));

        var result = Cmm(["data", "inspect", copy]);
        Assert.Equal(1, result.Exit);
        Assert.Contains("cmm: data set problem: 2 corrupt or missing files", result.Output);
        Assert.Contains($"'{pairs.File}' failed its SHA-256 check: expected {pairs.Sha256}", result.Output);
        Assert.Contains($"index '{omni.Index.File}' is missing", result.Output);
        Assert.Contains("examples from eval_pairs:", result.Output); // the intact streams are still shown
    }

    [Fact]
    public void NotADataSet_SaysHowToBuildOne()
    {
        var result = Cmm(["data", "inspect", _scratch]);
        Assert.Equal(2, result.Exit);
        Assert.Contains($"{_scratch} holds no dataset.json", result.Output);
        Assert.Contains("cmm data build fashion --out DIR", result.Output);
    }

    [Fact]
    public async Task OnAzure_TheSameReport_AndACorruptShardIsNamed()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        await AzuriteForCmm.UploadFolderAsync(store, corpus.Directory, "datasets/small/");
        var environment = AzuriteForCmm.Environment(azurite);
        string source = $"azure:{store.Container}/datasets/small";

        var result = Cmm(["data", "inspect", source], environment);
        Assert.True(result.Exit == 0, result.Output);
        Assert.Contains($"in {source} (", result.Output);
        Assert.Contains("files match dataset.json", result.Output);
        Assert.Contains("jpg: image 28x28", result.Output);

        var omni = DatasetManifest.Read(corpus.Directory).Streams[StreamNames.Omni].Shards[0];
        await AzuriteForCmm.ReplaceAsync(store, "datasets/small/" + omni.File, new byte[omni.Bytes]);
        var corrupt = Cmm(["data", "inspect", source], environment);
        Assert.Equal(1, corrupt.Exit);
        Assert.Contains($"'{omni.File}' failed its SHA-256 check", corrupt.Output);

        var wrong = Cmm(["data", "inspect", $"azure:{store.Container}/nothing-here"], environment);
        Assert.Equal(2, wrong.Exit);
        Assert.Contains("holds no dataset.json", wrong.Output);
    }

    private static (int Exit, string Output) Cmm(string[] args, Dictionary<string, string>? environment = null)
    {
        using var cmm = new CmmProcess(environment ?? [], args);
        int exit = cmm.WaitForExit(Patience);
        return (exit, cmm.Output);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
