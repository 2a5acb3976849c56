using System.Text.Json;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tests.Shared;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Tests;

/// <summary>Checkpoints under abuse: the whole job SIGKILLed while saving, PyTorch reading what we wrote, and identical runs writing identical bytes.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class CheckpointEndToEndTests(SmallCorpus corpus) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    private string[] Args(string job, int steps, int every) => ["train", "--workers", "2", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps, batch: 4, every)];

    [Fact]
    public async Task KillEverythingWhileSaving_LatestStaysValid_AndTheRelaunchRestoresAndFinishes()
    {
        const string job = "e2e-crash";
        using (var first = new CmmProcess(Args(job, steps: 12, every: 2)))
        {
            // The first rank to finish uploading has voted; the other may still be writing its files.
            Assert.True(first.WaitForLine("rank 1 saved", Patience) || first.WaitForLine("rank 0 saved", TimeSpan.FromSeconds(1)), first.Output);
            first.KillHard();
            CmmProcess.KillHard($"--job {job}", "--worker-id local-0");
            CmmProcess.KillHard($"--job {job}", "--worker-id local-1");
            first.WaitForExit(Patience);
        }
        var store = new FileBlobStore(_runs);
        var latest = await CheckpointCommitter.ReadLatestAsync(store, job);
        var selection = await CheckpointCatalog.FindNewestVerifiedAsync(store, job);
        // Nothing committed is lost: restore picks what latest names, or a newer checkpoint whose manifest was
        // written and verified before the kill but whose pointer move was not (when no latest exists yet).
        Assert.True((selection.Checkpoint?.Step ?? -1) >= (latest?.Pointer.Step ?? -1), $"restore picks {selection.Checkpoint?.Step}, latest is {latest?.Pointer.Step}");

        using var second = new CmmProcess(Args(job, steps: 12, every: 2));
        Assert.True(second.WaitForExit(Patience) == 0, second.Output);
        Assert.Contains(selection.Checkpoint is null ? "no committed checkpoint" : $"restoring checkpoint step {selection.Checkpoint.Step}", second.Output);
        Assert.Equal(12, (await CheckpointCommitter.ReadLatestAsync(store, job))!.Value.Pointer.Step);
    }

    [Fact]
    public async Task CommittedModelFile_PyTorchReadsTheSameTensors()
    {
        const string job = "e2e-export";
        using (var cmm = new CmmProcess(Args(job, steps: 2, every: 100)))
            Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        string path = Path.Combine(_runs, CheckpointLayout.FileKey(job, 2, CheckpointFiles.Model));
        using var ours = SafeTensors.Read(path);

        string script = Path.Combine(_runs, "sums.py");
        File.WriteAllText(script, "import sys, json; sys.path.insert(0, sys.argv[1]); from safetensors_io import load; t, _ = load(sys.argv[2]); " +
                                  "print(json.dumps({k: [list(v.shape), float(v.double().sum())] for k, v in t.items()}))\n");
        string output = PyTorchReference.Run(script, Path.Combine(PyTorchReference.RepoRoot, "tools/parity"), path);
        var theirs = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(output)!;

        Assert.Equal(ours.Tensors.Select(t => t.Name).Order(), theirs.Keys.Order());
        foreach (var (name, tensor) in ours.Tensors)
        {
            Assert.Equal(tensor.shape, theirs[name][0].EnumerateArray().Select(d => d.GetInt64()));
            using var f64 = tensor.to(ScalarType.Float64);
            using var sum = f64.sum();
            Assert.Equal(sum.item<double>(), theirs[name][1].GetDouble(), 6);
        }
    }

    [Fact]
    public async Task ThreeIdenticalRuns_CommitByteIdenticalCheckpoints()
    {
        const int steps = 4;
        var runs = new List<IReadOnlyList<CheckpointFileEntry>>();
        for (int run = 0; run < 3; run++)
        {
            string job = $"e2e-same-{run}";
            using (var cmm = new CmmProcess(Args(job, steps, every: 100)))
                Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
            var manifest = await CheckpointCatalog.ReadManifestAsync(new FileBlobStore(_runs), job, steps);
            Assert.NotNull(manifest);
            runs.Add(manifest.Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList());
        }
        // Weights, optimizer moments, generator states and data positions of every rank: the same bytes (SHA-256) each time.
        Assert.Contains(runs[0], f => f.Path == CheckpointFiles.Model);
        Assert.Equal(runs[0], runs[1]);
        Assert.Equal(runs[0], runs[2]);
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
