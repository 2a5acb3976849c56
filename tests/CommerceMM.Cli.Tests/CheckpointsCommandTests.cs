using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.Tests.Azure;
using CommerceMM.Tensors;
using CommerceMM.Tests.Shared;
using CommerceMM.Worker.Checkpointing;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Tests;

/// <summary>`cmm checkpoints list|inspect|validate|export` against a real job's store: the file store, then the same blobs on Azurite.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class CheckpointsCommandTests(SmallCorpus corpus, TrainedJob trained, AzuriteFixture azurite) : IClassFixture<TrainedJob>, IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly string _scratch = Directory.CreateTempSubdirectory("cmm-e2e-checkpoints-").FullName;
    private const string Job = TrainedJob.Name;
    private static readonly string Step = TrainedJob.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string[] FileStore(string runs) => ["--set", $"job.name={Job}", "--set", $"checkpoint.store=file:{runs}"];

    private static string[] AzureStore(string container) => ["--set", $"job.name={Job}", "--set", "checkpoint.store=azure:", "--set", $"checkpoint.container={container}"];

    [Fact]
    public void FreshJob_ListsVerified_InspectShowsEverything_ValidatePasses()
    {
        string[] store = FileStore(trained.Runs(corpus));
        var list = Cmm(["checkpoints", "list", .. store]);
        Assert.Equal(0, list.Exit);
        Assert.Contains($"checkpoints of job '{Job}' in file:", list.Output);
        Assert.Matches($@"\s{Step}\s+2\s+5\s+[\d.]+ MiB\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+verified \[latest\]", list.Output);
        Assert.Contains($"restore picks step {Step}", list.Output);

        var inspect = Cmm(["checkpoints", "inspect", .. store]);
        Assert.Equal(0, inspect.Exit);
        foreach (string expected in new[]
                 {
                     $"checkpoint step-{Step} of job '{Job}'", "state          verified [latest] (restore picks it)", "world size     2",
                     "AdamW step 4", "teacher (", "rank-00000/state.json", "rank-00001/state.json",
                 })
            Assert.Contains(expected, inspect.Output);
        Assert.Matches(@"model\.safetensors\s+\d\s+[\d,]+\s+[0-9a-f]{16}\s+ok", inspect.Output);
        Assert.Matches(@"rank-00001/state\.json\s+4\s+0\s+2\s+pairs 0: 32/400, omni 0: 32/", inspect.Output);
        Assert.Contains($"trained with the data set's tokenizer of SHA-256 {DatasetManifest.Read(corpus.Directory).Tokenizer.Sha256}", inspect.Output);

        var validate = Cmm(["checkpoints", "validate", .. store]);
        Assert.True(validate.Exit == 0, validate.Output);
        Assert.Contains("every file matches its manifest", validate.Output);
    }

    [Fact]
    public void FlippedByte_AndInterruptedSave_AreNamed_ValidateFailsNamingTheFile()
    {
        string runs = trained.Copy(corpus, Path.Combine(_scratch, "runs"));
        string optimizer = Path.Combine(runs, CheckpointLayout.FileKey(Job, TrainedJob.Steps, CheckpointFiles.Optimizer));
        FlipByte(optimizer, 1000);
        // A save killed before its manifest: files, no manifest.json.
        string interrupted = Path.Combine(runs, CheckpointLayout.FileKey(Job, 6, CheckpointFiles.Model));
        Directory.CreateDirectory(Path.GetDirectoryName(interrupted)!);
        File.WriteAllText(interrupted, "half a file");

        var list = Cmm(["checkpoints", "list", .. FileStore(runs)]);
        Assert.Equal(0, list.Exit);
        Assert.Contains($"broken: file '{CheckpointFiles.Optimizer}': SHA-256 expected", list.Output);
        Assert.Contains("broken: no manifest.json: an interrupted save, never committed", list.Output);
        Assert.DoesNotContain($"restore picks step {Step}", list.Output);

        var validate = Cmm(["checkpoints", "validate", .. FileStore(runs)]);
        Assert.Equal(1, validate.Exit);
        Assert.Matches($@"BROKEN {CheckpointFiles.Optimizer.Replace(".", @"\.")}", validate.Output);
        Assert.Contains($"cmm: 1 problem in the checkpoints of job '{Job}':", validate.Output);
        Assert.Contains($"step-{Step} file '{CheckpointFiles.Optimizer}': SHA-256 expected", validate.Output);

        // Asked for by step, the interrupted save fails too: there is nothing to check it against.
        Assert.Equal(1, Cmm(["checkpoints", "validate", "--step", "6", .. FileStore(runs)]).Exit);
        Assert.Contains("--step 'x' is not a step number or 'latest' or 'all'", Cmm(["checkpoints", "validate", "--step", "x", .. FileStore(runs)]).Output);
    }

    [Fact]
    public async Task Export_WritesTheWeightsAndTheirTokenizer_PyTorchReadsTheSameTensors()
    {
        string runs = trained.Runs(corpus);
        string output = Path.Combine(_scratch, "model.safetensors");
        var export = Cmm(["checkpoints", "export", "--out", output, .. FileStore(runs)]);
        Assert.True(export.Exit == 0, export.Output);
        Assert.Contains($"wrote {output}: step {Step} of job '{Job}'", export.Output);
        string tokenizer = Path.Combine(_scratch, "model.tokenizer.model");
        Assert.Contains($"wrote {tokenizer}: the SentencePiece tokenizer whose token ids the model reads", export.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(corpus.Directory, DatasetManifest.Read(corpus.Directory).Tokenizer.File)), File.ReadAllBytes(tokenizer));

        using (var original = SafeTensors.Read(Path.Combine(runs, CheckpointLayout.FileKey(Job, TrainedJob.Steps, CheckpointFiles.Model))))
        {
            var theirs = PyTorchSums(output);
            Assert.Equal(original.Tensors.Select(t => t.Name).Order(), theirs.Tensors.Keys.Order());
            foreach (var (name, tensor) in original.Tensors)
            {
                Assert.Equal(tensor.shape, theirs.Tensors[name][0].EnumerateArray().Select(d => d.GetInt64()));
                using var f64 = tensor.to(ScalarType.Float64);
                using var sum = f64.sum();
                Assert.Equal(sum.item<double>(), theirs.Tensors[name][1].GetDouble(), 6);
            }
            var manifest = await CheckpointCatalog.ReadManifestAsync(new Storage.FileSystem.FileBlobStore(runs), Job, TrainedJob.Steps);
            Assert.Equal("pt", theirs.Metadata["format"]);
            Assert.Equal(Step, theirs.Metadata["cmm.step"]);
            Assert.Equal(Job, theirs.Metadata["cmm.job"]);
            Assert.Equal(manifest!.ConfigHash, theirs.Metadata["cmm.config_hash"]);
            Assert.Equal(DatasetManifest.Read(corpus.Directory).Tokenizer.Sha256, theirs.Metadata["cmm.tokenizer_sha256"]);
        }

        // An existing file is replaced only when asked; --no-teacher leaves the EMA teacher out.
        Assert.Contains($"{output} exists; pass --overwrite", Cmm(["checkpoints", "export", "--out", output, .. FileStore(runs)]).Output);
        var student = Cmm(["checkpoints", "export", "--out", output, "--overwrite", "--no-teacher", "--step", Step, .. FileStore(runs)]);
        Assert.True(student.Exit == 0, student.Output);
        var names = PyTorchSums(output).Tensors.Keys.ToList();
        Assert.DoesNotContain(names, n => n.StartsWith("teacher.", StringComparison.Ordinal));
        Assert.Contains("mim_center", names);
    }

    [Fact]
    public void Export_IntoAFolderNotYetMade_MakesIt_AndAnExistingTokenizerFileNeedsOverwrite()
    {
        string runs = trained.Copy(corpus, Path.Combine(_scratch, "runs"));
        string output = Path.Combine(_scratch, "exports", "v1", "model.safetensors");
        var export = Cmm(["checkpoints", "export", "--out", output, .. FileStore(runs)]);
        Assert.True(export.Exit == 0, export.Output);
        Assert.True(File.Exists(output));

        // The weights gone but their tokenizer still there: a second export must not replace it unasked.
        File.Delete(output);
        string tokenizer = Path.Combine(_scratch, "exports", "v1", "model.tokenizer.model");
        var again = Cmm(["checkpoints", "export", "--out", output, .. FileStore(runs)]);
        Assert.Equal(2, again.Exit);
        Assert.Contains($"cmm: --out '{output}': {tokenizer} exists; pass --overwrite to replace it", again.Output);
        Assert.False(File.Exists(output));
        Assert.Equal(0, Cmm(["checkpoints", "export", "--out", output, "--overwrite", .. FileStore(runs)]).Exit);
    }

    [Fact]
    public void Export_OfACorruptModelFile_RefusesAndWritesNothing()
    {
        string runs = trained.Copy(corpus, Path.Combine(_scratch, "runs"));
        FlipByte(Path.Combine(runs, CheckpointLayout.FileKey(Job, TrainedJob.Steps, CheckpointFiles.Model)), 4096);
        string output = Path.Combine(_scratch, "model.safetensors");

        var byStep = Cmm(["checkpoints", "export", "--out", output, "--step", Step, .. FileStore(runs)]);
        Assert.Equal(2, byStep.Exit);
        Assert.Contains($"checkpoint step-{Step} file '{CheckpointFiles.Model}': SHA-256 expected", byStep.Output);
        Assert.Contains("nothing exported", byStep.Output);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(_scratch)); // no temporary file left behind either

        var latest = Cmm(["checkpoints", "export", "--out", output, .. FileStore(runs)]);
        Assert.Equal(2, latest.Exit);
        Assert.Contains($"job '{Job}' has no checkpoint that verifies", latest.Output);
    }

    [Fact]
    public void Export_IntoAFolderNobodyCanWrite_NamesOutAndExitsTwo()
    {
        string runs = trained.Copy(corpus, Path.Combine(_scratch, "runs"));
        // /proc refuses new files even to root, where a read-only mode would not.
        var export = Cmm(["checkpoints", "export", "--out", "/proc/model.safetensors", .. FileStore(runs)]);
        Assert.Equal(2, export.Exit);
        Assert.Contains("cmm: --out '/proc/model.safetensors': cannot write a file in /proc", export.Output);
        Assert.Contains("nothing exported", export.Output);
        Assert.DoesNotContain("   at ", export.Output);

        var nested = Cmm(["checkpoints", "export", "--out", "/proc/exports/model.safetensors", .. FileStore(runs)]);
        Assert.Equal(2, nested.Exit);
        Assert.Contains("cmm: --out '/proc/exports/model.safetensors': cannot write a file in /proc/exports", nested.Output);
        Assert.DoesNotContain("   at ", nested.Output);
    }

    [Fact]
    public async Task OnAzure_ListValidateExportWork_AndCorruptionIsNamedByFile()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        await AzuriteForCmm.UploadFolderAsync(store, trained.Runs(corpus), "");
        var environment = AzuriteForCmm.Environment(azurite);
        string[] azure = AzureStore(store.Container);

        var list = Cmm(["checkpoints", "list", .. azure], environment);
        Assert.True(list.Exit == 0, list.Output);
        Assert.Contains($"in azure: container '{store.Container}'", list.Output);
        Assert.Contains("verified [latest]", list.Output);
        Assert.True(Cmm(["checkpoints", "validate", .. azure], environment).Exit == 0);
        var inspect = Cmm(["checkpoints", "inspect", .. azure], environment);
        Assert.True(inspect.Exit == 0, inspect.Output);
        Assert.Contains("AdamW step 4", inspect.Output);

        string output = Path.Combine(_scratch, "from-azure.safetensors");
        var export = Cmm(["checkpoints", "export", "--out", output, .. azure], environment);
        Assert.True(export.Exit == 0, export.Output);
        // The same manifest and weights give the same file, byte for byte, whichever store they came from.
        string fromFile = Path.Combine(_scratch, "from-file.safetensors");
        Assert.Equal(0, Cmm(["checkpoints", "export", "--out", fromFile, .. FileStore(trained.Runs(corpus))]).Exit);
        Assert.Equal(await File.ReadAllBytesAsync(fromFile), await File.ReadAllBytesAsync(output));

        // A rank's state replaced behind the manifest's back: named by file, and validate fails.
        string state = $"{AsyncCheckpointSaver.RankFolder(1)}/{RankState.FileName}";
        await AzuriteForCmm.ReplaceAsync(store, CheckpointLayout.FileKey(Job, TrainedJob.Steps, state), "{\"version\":2}"u8.ToArray());
        var validate = Cmm(["checkpoints", "validate", .. azure], environment);
        Assert.Equal(1, validate.Exit);
        Assert.Contains($"step-{Step} file '{state}': size expected", validate.Output);
    }

    [Fact]
    public void OnAzure_AMissingContainer_IsOneErrorNamingTheSetting()
    {
        var result = Cmm(["checkpoints", "list", .. AzureStore("no-such-container")], AzuriteForCmm.Environment(azurite));
        Assert.Equal(2, result.Exit);
        Assert.Contains("cmm: checkpoint store problem:", result.Output);
        Assert.Contains("(checkpoint.container)", result.Output);

        // An endpoint nobody listens on: one error naming the setting after the probe's few retries, not a retry loop.
        var unreachable = Cmm(["checkpoints", "list", .. AzureStore("anything")], new()
        {
            [Storage.Azure.AzureBlobStoreEnvironment.ConnectionStringVariable] = AzuriteForCmm.Environment(azurite).Single().Value
                .Replace(azurite.ServiceUri.Authority, $"127.0.0.1:{FreePorts.Next()}", StringComparison.Ordinal),
        });
        Assert.Equal(2, unreachable.Exit);
        Assert.Contains("could not be reached", unreachable.Output);
        Assert.Contains(Storage.Azure.AzureBlobStoreEnvironment.ConnectionStringVariable, unreachable.Output);

        var noCredentials = Cmm(["checkpoints", "list", .. AzureStore("anything")]);
        Assert.Equal(2, noCredentials.Exit);
        Assert.Contains("checkpoint.store: azure: No Azure Blob Storage settings: set CMM_AZURE_CONNECTION_STRING", noCredentials.Output);
    }

    [Fact]
    public void Train_OnAzureWithoutItsContainer_StopsAtStartNamingTheSetting()
    {
        // Checked before any worker starts (BlobStores.OpenVerifiedAsync), not at the first checkpoint.
        using var cmm = new CmmProcess(AzuriteForCmm.Environment(azurite),
            ["train", .. TrainingArgs.Overrides("e2e-no-container", corpus.Directory, _scratch, steps: 2, batch: 4, every: 1), .. AzureStore("not-created")[2..]]);
        Assert.Equal(2, cmm.WaitForExit(Patience));
        Assert.Contains("cmm: checkpoint store problem:", cmm.Output);
        Assert.Contains("The container does not exist (checkpoint.container)", cmm.Output);
        Assert.DoesNotContain("starting 2 workers", cmm.Output);
    }

    [Fact]
    public async Task Train_OnAzure_ASecondLaunchOfTheRunningJobIsRefused_ByItsBlobLease()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        string[] args = ["train", .. TrainingArgs.Overrides("e2e-azure-twice", corpus.Directory, _scratch, steps: 1000, batch: 4, every: 1000), .. AzureStore(store.Container)[2..]];
        using var first = new CmmProcess(AzuriteForCmm.Environment(azurite), args);
        Assert.True(first.WaitForLine("step 2 ", Patience), first.Output);

        // Before, an Azure store had no owner lock: the second ran a second control plane, and both sets of workers trained.
        using (var second = new CmmProcess(AzuriteForCmm.Environment(azurite), args))
        {
            Assert.Equal(2, second.WaitForExit(Patience));
            Assert.Contains($"cmm: job 'e2e-azure-twice' is already running from azure: (cmm train, pid {first.Id}, since ", second.Output);
            Assert.DoesNotContain("starting 2 workers", second.Output);
        }
        // Another terminal: no --coordinator, no token; the launch is found through its lease blob.
        using (var status = new CmmProcess(AzuriteForCmm.Environment(azurite), ["status", .. args[1..]]))
        {
            Assert.True(status.WaitForExit(Patience) == 0, status.Output);
            Assert.Contains("job e2e-azure-twice: Running", status.Output);
        }
        first.Terminate();
        Assert.Equal(0, first.WaitForExit(Patience));
    }

    [Fact]
    public void UnknownJobOrStore_SaysWhereToLook()
    {
        string runs = trained.Runs(corpus);
        var other = Cmm(["checkpoints", "list", "--set", "job.name=nope", "--set", $"checkpoint.store=file:{runs}"]);
        Assert.Equal(0, other.Exit);
        Assert.Contains($"no checkpoints of job 'nope' here; jobs with checkpoints in this store: {Job}", other.Output);

        var missing = Cmm(["checkpoints", "list", "--set", $"checkpoint.store=file:{Path.Combine(_scratch, "never")}"]);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("does not exist, so nothing was trained into it", missing.Output);
        Assert.False(Directory.Exists(Path.Combine(_scratch, "never"))); // a read-only command creates nothing
    }

    [Fact]
    public async Task BenchStorage_MeasuresTheFileStoreAndAzure()
    {
        var file = Cmm(["bench", "storage", "--size-mb", "1", "--rounds", "2", .. FileStore(trained.Copy(corpus, Path.Combine(_scratch, "runs")))]);
        Assert.True(file.Exit == 0, file.Output);
        Assert.Matches(@"file\s+1\.0 MiB\s+[\d.]+\s+[\d.]+", file.Output);

        var store = await azurite.CreateStoreWithNewContainerAsync();
        await AzuriteForCmm.UploadFolderAsync(store, trained.Runs(corpus), "");
        var azure = Cmm(["bench", "storage", "--rounds", "1", .. AzureStore(store.Container)], AzuriteForCmm.Environment(azurite));
        Assert.True(azure.Exit == 0, azure.Output);
        Assert.Contains($"(job '{Job}' step {Step}'s {CheckpointFiles.Model})", azure.Output);
        Assert.Matches(@"azure\s+[\d.]+ MiB\s+[\d.]+\s+[\d.]+", azure.Output);
        await foreach (var blob in store.ListAsync("bench-storage/")) Assert.Fail($"left behind: {blob.Key}");
    }

    private static (int Exit, string Output) Cmm(string[] args, Dictionary<string, string>? environment = null)
    {
        using var cmm = new CmmProcess(environment ?? [], args);
        int exit = cmm.WaitForExit(Patience);
        return (exit, cmm.Output);
    }

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x40));
    }

    /// <summary>Each tensor's shape and float64 sum, and the metadata, as PyTorch reads the file (tools/parity/safetensors_io.py).</summary>
    private (Dictionary<string, JsonElement[]> Tensors, Dictionary<string, string> Metadata) PyTorchSums(string path)
    {
        string script = Path.Combine(_scratch, "sums.py");
        File.WriteAllText(script, "import sys, json; sys.path.insert(0, sys.argv[1]); from safetensors_io import load; t, m = load(sys.argv[2]); " +
                                  "print(json.dumps({'tensors': {k: [list(v.shape), float(v.double().sum())] for k, v in t.items()}, 'metadata': m}))\n");
        var json = JsonDocument.Parse(PyTorchReference.Run(script, Path.Combine(PyTorchReference.RepoRoot, "tools/parity"), path)).RootElement;
        return (json.GetProperty("tensors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().ToArray()),
                json.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
