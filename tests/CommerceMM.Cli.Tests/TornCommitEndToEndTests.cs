using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// Issue 14's torn commit, tried as a user would: the whole job SIGKILLed after a checkpoint's manifest is written but
/// before 'latest' moves, relaunched with the same command, then SIGTERMed at once.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class TornCommitEndToEndTests(SmallCorpus corpus) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    // The first periodic checkpoint must be ordered before the ranks pass it: every 5 steps leaves room for a slow
    // first heartbeat (JIT, first grain calls) that every 3 did not always leave.
    private const int Every = 5, Torn = 2 * Every;

    [Fact]
    public async Task KillBetweenManifestAndLatest_RelaunchAndSigterm_CheckpointsExitsZeroAndEverySampleCountsOnce()
    {
        const string job = "e2e-torn";
        const int batch = 4;
        string audit = Path.Combine(_runs, "audit");
        string[] train = ["train", "--workers", "2", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 40, batch, every: Every)];
        using (var first = new CmmProcess(
            new Dictionary<string, string> { ["CMM_AUDIT_DIR"] = audit, [CrashPoint.Variable] = $"{CrashPoint.ManifestWritten}@{Torn}" }, train))
        {
            // The coordinator runs inside `cmm train`: the crash point SIGKILLs it; the workers go the same way.
            Assert.True(first.WaitForExit(Patience) == 137, first.Output);
            KillIfAlive(job, "local-0");
            KillIfAlive(job, "local-1");
        }

        var store = new FileBlobStore(_runs);
        Assert.Equal(Every, (await CheckpointCommitter.ReadLatestAsync(store, job))!.Value.Pointer.Step);
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(store, job, Torn)); // torn: manifest written, latest not moved

        using var second = new CmmProcess(AuditLog.Environment(audit), train);
        Assert.True(second.WaitForLine($"restoring checkpoint step {Every}", Patience), second.Output);
        second.Terminate(); // before the fix the coordinator refused this checkpoint (it counted the torn step) and every worker exited 75
        Assert.True(second.WaitForExit(Patience) == 0, second.Output);

        Assert.Contains($"step {Torn} aborted", second.Output);
        Assert.Contains("joined generation 2", second.Output); // the relaunch is a new generation
        var latest = (await CheckpointCommitter.ReadLatestAsync(store, job))!.Value.Pointer;
        Assert.True(latest.Step > Every, $"the SIGTERM checkpoint did not commit; latest is step {latest.Step}");
        Assert.Equal(2, latest.Generation);
        await AssertEachSampleConsumedOnceAsync(audit, latest.Step, batch * 2);
    }

    /// <summary>
    /// The lineage of the committed weights (for each step before <paramref name="committed"/>, the records of the newest
    /// generation that ran it) consumed exactly the first samples of the epoch order: nothing twice, nothing skipped.
    /// It holds only if the relaunch's generation is newer than the killed launch's.
    /// </summary>
    private async Task AssertEachSampleConsumedOnceAsync(string audit, long committed, int perStep)
    {
        var records = AuditLog.Read(audit).Where(r => r.Step < committed).ToList();
        var lineage = records.GroupBy(r => r.Step).OrderBy(g => g.Key)
            .Select(g => g.Where(r => r.Generation == g.Max(x => x.Generation)).ToList()).ToList();
        Assert.Equal(Enumerable.Range(0, (int)committed).Select(s => (long)s), lineage.Select(g => g[0].Step));
        Assert.All(lineage.Skip(Every), g => Assert.Equal(2, g[0].Generation)); // everything after the restored checkpoint is the relaunch's
        var consumed = lineage.SelectMany(g => g.SelectMany(r => r.Streams[StreamNames.Pairs])).ToList();
        Assert.Equal(committed * perStep, consumed.Count);
        Assert.Equal(consumed.Count, consumed.Distinct().Count());

        await using var order = DataLoader.Pairs(new LoaderOptions
        {
            DatasetDirectory = corpus.Directory, Stream = StreamNames.Pairs, BatchSize = consumed.Count, Seed = 1, WorldSize = 1, Rank = 0,
        });
        using var firstBatch = await order.NextAsync();
        Assert.Equal(firstBatch.Keys.Order(), consumed.Order());
    }

    /// <summary>A worker of the killed launch may already have exited on its own (it lost the coordinator).</summary>
    private static void KillIfAlive(string job, string workerId)
    {
        try
        {
            CmmProcess.KillHard($"--job {job}", $"--worker-id {workerId}");
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
