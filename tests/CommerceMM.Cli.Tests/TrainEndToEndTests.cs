using System.Text.RegularExpressions;
using CommerceMM.Data.Format;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Storage.Tests.Azure;
using CommerceMM.Worker;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// `cmm train` as a user runs it: a coordinator, real worker processes, real Gloo, checkpoints in a
/// real file blob store. Small (8 rows, a handful of steps) so the suite stays quick on 2 cores.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class TrainEndToEndTests(SmallCorpus corpus, AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    private string[] Args(string job, int workers, int steps, int every, params string[] extra) =>
    [
        "train", "--workers", workers.ToString(),
        "--set", $"job.name={job}", "--set", $"job.max_steps={steps}", "--set", "job.log_every=1",
        "--set", $"data.dir={corpus.Directory}", "--set", "data.batch_size=8",
        "--set", "optimizer.warmup_steps=2", "--set", $"checkpoint.every={every}", "--set", $"checkpoint.store=file:{_runs}",
        "--set", "model.prototypes=32", .. extra,
    ];

    [Fact]
    public async Task Train_TwoWorkers_CompletesWithPeriodicAndFinalCheckpoints()
    {
        using var cmm = new CmmProcess(Args("e2e-basic", workers: 2, steps: 7, every: 2));
        int exit = cmm.WaitForExit(Patience);
        Assert.True(exit == 0, cmm.Output);
        Assert.Contains("Completed", cmm.Output);
        // The two workers share the machine's cores.
        int share = Math.Max(1, Environment.ProcessorCount / 2);
        Assert.Equal(2, Regex.Matches(cmm.Output, $@"training on cpu in fp32 with {share} intra-op thread\(s\)").Count);
        Assert.DoesNotContain("Polly: Execution attempt", cmm.Output); // library telemetry at Information drowns the job's own lines
        var store = new FileBlobStore(_runs);
        var committed = (await CheckpointCatalog.ListAsync(store, "e2e-basic")).Where(f => f.HasManifest).Select(f => f.Step).ToList();
        // Periodic orders land on multiples of checkpoint.every far enough ahead of the ranks; the final step always commits.
        Assert.True(committed.Count >= 2, cmm.Output);
        Assert.Equal(7L, committed[^1]);
        Assert.All(committed.SkipLast(1), s => Assert.Equal(0, s % 2));
        var manifest = await CheckpointCatalog.ReadManifestAsync(store, "e2e-basic", 7);
        Assert.Equal(2, manifest!.WorldSize);
        Assert.Contains(manifest.Files, f => f.Path == "rank-00001/state.json");
    }

    /// <param name="azure">checkpoints in Azurite (a new container) instead of the file store</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Preempt_ThenRestartWithNoFlags_EndsWithTheUninterruptedRunsWeights(bool azure)
    {
        // Room after the SIGTERM: the workers take it on their next step and checkpoint two steps on. Under CI's load they
        // were once at least 4 steps past "step 2" by then, and with 8 steps that checkpoint fell on the last step.
        const int steps = 16;
        string straightAudit = Path.Combine(_runs, "audit-straight"), resumedAudit = Path.Combine(_runs, "audit-preempted");
        var checkpoints = await CheckpointStoreForCmm.CreateAsync(azure, _runs, azurite);
        var (store, storeArgs) = (checkpoints.Store, checkpoints.Args);
        Dictionary<string, string> Environment(string audit) => checkpoints.EnvironmentWith(AuditLog.Environment(audit));
        Dictionary<long, string> straightSteps;
        using (var straight = new CmmProcess(Environment(straightAudit), Args("e2e-straight", 2, steps, every: 100, storeArgs)))
        {
            Assert.True(straight.WaitForExit(Patience) == 0, straight.Output);
            straightSteps = StepLog.Rank0Figures(straight.Output);
        }
        var expected = await CommittedWeights.ReadAsync(store, "e2e-straight", steps);

        using (var first = new CmmProcess(Environment(resumedAudit), Args("e2e-preempted", 2, steps, every: 100, storeArgs)))
        {
            Assert.True(first.WaitForLine("step 2 ", Patience), first.Output);
            first.Terminate(); // SIGTERM, as Kubernetes sends on preemption
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
            var ordered = Regex.Match(first.Output, @"SIGTERM: checkpoint ordered at step (\d+)");
            Assert.True(ordered.Success, first.Output);
            Assert.True(long.Parse(ordered.Groups[1].Value) < steps, $"the preemption's checkpoint fell on the last step, so there is no resume to check:\n{first.Output}");
        }
        using (var second = new CmmProcess(Environment(resumedAudit), Args("e2e-preempted", 2, steps, every: 100, storeArgs)))
        {
            Assert.True(second.WaitForExit(Patience) == 0, second.Output);
            Assert.Contains("restoring checkpoint step", second.Output);
            // Every step after the resume logs the same losses and gradient norm as the uninterrupted run.
            var resumedSteps = StepLog.Rank0Figures(second.Output);
            Assert.NotEmpty(resumedSteps);
            foreach (var (step, figures) in resumedSteps) Assert.Equal(straightSteps[step], figures);
        }
        // Every step, on every rank: the same samples and the same loss for every task, to the last bit.
        // (A step the preempted run took after its checkpoint is taken again after the resume; the later one counts.)
        var straightRecords = AuditLog.Read(straightAudit).ToDictionary(r => (r.Step, r.Rank));
        var resumedRecords = AuditLog.Read(resumedAudit).GroupBy(r => (r.Step, r.Rank)).ToDictionary(g => g.Key, g => g.Last());
        Assert.Equal(straightRecords.Keys.Order(), resumedRecords.Keys.Order());
        foreach (var (key, record) in straightRecords)
        {
            Assert.Equal(record.Streams.SelectMany(s => s.Value), resumedRecords[key].Streams.SelectMany(s => s.Value));
            Assert.Equal(record.Losses.OrderBy(l => l.Key), resumedRecords[key].Losses.OrderBy(l => l.Key));
        }
        // And the same weights to the last bit: a resume recomputes exactly what the uninterrupted run did.
        var resumed = await CommittedWeights.ReadAsync(store, "e2e-preempted", steps);
        CommittedWeights.AssertIdentical(expected, resumed);
    }

    [Fact]
    public async Task StopReachingEveryProcess_AsATerminalsCtrlCDoes_CheckpointsAndExitsZero()
    {
        // Each worker hears the stop twice, from the group and from the launcher's forwarding. Before, the second counted as
        // "stop waiting": both workers crashed (exit 134) and the stop's checkpoint was never written.
        using var cmm = new CmmProcess(new Dictionary<string, string>(), ownProcessGroup: true, Args("e2e-group-stop", 2, steps: 40, every: 100));
        Assert.True(cmm.WaitForLine("step 2 ", Patience), cmm.Output);
        cmm.TerminateGroup();

        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        var ordered = Regex.Match(cmm.Output, @"SIGTERM: checkpoint ordered at step (\d+)");
        Assert.True(ordered.Success, cmm.Output);
        Assert.Contains($"worker exit codes: {WorkerExitCodes.Retry}, {WorkerExitCodes.Retry}", cmm.Output); // each left; nothing restarts them
        Assert.DoesNotContain("Unhandled exception", cmm.Output);
        var latest = await CheckpointCommitter.ReadLatestAsync(new FileBlobStore(_runs), "e2e-group-stop");
        Assert.Equal(long.Parse(ordered.Groups[1].Value), latest!.Value.Pointer.Step);
    }

    [Fact]
    public async Task CmmStop_EveryRankSavesAndHolds_TheJobStopsThereForGood_AndWorkersAndTrainExitZero()
    {
        // From another terminal, as an operator stops a job: found through the spec's store, like `cmm status`.
        const string job = "e2e-cmm-stop";
        using var train = new CmmProcess(Args(job, 2, steps: 400, every: 1000));
        Assert.True(train.WaitForLine("step 3 ", Patience), train.Output);
        using var stop = new CmmProcess(["stop", "--set", $"job.name={job}", "--set", $"checkpoint.store=file:{_runs}"]);

        Assert.True(stop.WaitForExit(Patience) == 0, stop.Output + train.Output);
        Assert.True(train.WaitForExit(Patience) == 0, train.Output);
        Assert.Contains($"stop asked for: job '{job}' stops once a checkpoint every rank saves commits", stop.Output);
        var stopped = Regex.Match(train.Output, @"Stopped \(stopped by request after checkpoint at step (\d+); resumable: a relaunch resumes it\)");
        Assert.True(stopped.Success, train.Output);
        string step = stopped.Groups[1].Value;
        // From the coordinator, or, when `cmm train` took its coordinator down with the job before the next poll, from the store.
        Assert.True(stop.Output.Contains($"stopped by request after checkpoint at step {step};", StringComparison.Ordinal)
                    || stop.Output.Contains($"has ended, and its coordinator with it; last committed checkpoint: step {step}", StringComparison.Ordinal), stop.Output);
        Assert.Contains("worker exit codes: 0, 0", train.Output); // nothing restarts them; a Kubernetes Job completes
        Assert.DoesNotContain("restarting it", train.Output);
        var latest = await CheckpointCommitter.ReadLatestAsync(new FileBlobStore(_runs), job);
        Assert.Equal(long.Parse(step), latest!.Value.Pointer.Step);
    }

    [Fact]
    public void PresetWhosePatchesDoNotFitTheData_IsRefusedBeforeAnythingStarts()
    {
        using var cmm = new CmmProcess(Args("e2e-base", 2, 4, every: 4, "--set", "model.preset=base"));
        Assert.Equal(2, cmm.WaitForExit(Patience));
        Assert.Contains($"cmm: invalid job spec: model.preset: 'base' cuts images into 16-pixel patches, which do not divide the 28-pixel images in data.dir '{corpus.Directory}'; use tiny or small for this data set", cmm.Output);
        Assert.DoesNotContain("starting 2 workers", cmm.Output);
    }

    [Fact]
    public void TruncatedShard_IsFoundBeforeAnythingStarts_NamingItAndTheRemedy()
    {
        string data = Path.Combine(_runs, "data");
        TrainedJob.CopyFolder(corpus.Directory, data);
        string shard = Path.Combine(data, "omni", "shard-000000.tar");
        using (var file = new FileStream(shard, FileMode.Open)) file.SetLength(file.Length / 2);

        using var cmm = new CmmProcess(Args("e2e-cut", 2, 4, every: 4, "--set", $"data.dir={data}"));
        Assert.Equal(2, cmm.WaitForExit(Patience));
        Assert.Contains("cmm: data set problem: 'omni/shard-000000.tar' failed its size check", cmm.Output);
        Assert.Contains("--overwrite) or restore the folder from a copy", cmm.Output);
        Assert.DoesNotContain("starting 2 workers", cmm.Output);
    }

    [Fact]
    public void ShardWithAFlippedByte_TheWorkersStopNamingIt_AndTheLauncherSaysNoRestartGetsPast()
    {
        // The size is right, so the launcher's check passes; the workers' SHA-256 check finds it.
        string data = Path.Combine(_runs, "data");
        TrainedJob.CopyFolder(corpus.Directory, data);
        string shard = Path.Combine(data, "pairs", "shard-000000.tar");
        byte[] bytes = File.ReadAllBytes(shard);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(shard, bytes);

        using var cmm = new CmmProcess(Args("e2e-flip", 2, 4, every: 4, "--set", $"data.dir={data}"));
        Assert.Equal(1, cmm.WaitForExit(Patience));
        Assert.Contains("cmm: data set problem: 'pairs/shard-000000.tar' failed its SHA-256 check", cmm.Output);
        Assert.Contains("worker exit codes: 2, 2", cmm.Output);
        Assert.Contains("cmm train: the workers of job 'e2e-flip' stopped on a problem no restart gets past (exit 2, above); fix it, and `cmm train` resumes from the start", cmm.Output);
    }

    [Fact]
    public void ResumeWithAModelOfAnotherShape_IsRefusedBeforeAnythingStarts_AndTheCheckpointsStay()
    {
        using (var first = new CmmProcess(Args("e2e-reshape", 1, 2, every: 2)))
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
        var before = Directory.GetFiles(_runs, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.cmm-store/")).Order().ToList();

        using var resized = new CmmProcess(Args("e2e-reshape", 1, 4, every: 2, "--set", "model.prototypes=16"));
        Assert.Equal(2, resized.WaitForExit(Patience));
        Assert.Contains($"cmm: checkpoint problem: job 'e2e-reshape' has checkpoints up to step 2 in file:{_runs} from a model of another shape", resized.Output);
        Assert.Contains("--set job.name=NEW", resized.Output);
        Assert.DoesNotContain("starting 1 workers", resized.Output);
        Assert.Equal(before, Directory.GetFiles(_runs, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.cmm-store/")).Order().ToList());
    }

    [Fact]
    public void ResumeOnARebuiltDataSet_IsRefusedBeforeAnythingStarts_NamingTheTokenizer()
    {
        string data = Path.Combine(_runs, "data");
        TrainedJob.CopyFolder(corpus.Directory, data);
        using (var first = new CmmProcess(Args("e2e-rebuilt", 1, 2, every: 2, "--set", $"data.dir={data}")))
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
        // What rebuilding the data set does to dataset.json: another tokenizer of the same size, so the model's shape is the same.
        string manifest = Path.Combine(data, DatasetManifest.FileName);
        string trained = DatasetManifest.Read(data).Tokenizer.Sha256;
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace(trained, new string('0', 64)));

        using var resumed = new CmmProcess(Args("e2e-rebuilt", 1, 4, every: 2, "--set", $"data.dir={data}"));
        Assert.Equal(2, resumed.WaitForExit(Patience));
        Assert.Contains($"cmm: checkpoint problem: checkpoint step-2 was trained with another tokenizer than the data set in '{data}' has " +
                        $"(SHA-256 {trained[..12]}…, the data set's 000000000000…)", resumed.Output);
        Assert.Contains("--set job.name=NEW", resumed.Output);
        Assert.DoesNotContain("starting 1 workers", resumed.Output);
    }

    [Fact]
    public async Task InitFrom_ANewJobStartsFromAnotherJobsWeights_NotFromItsSeed()
    {
        using (var first = new CmmProcess(Args("e2e-init-a", 1, 2, every: 2)))
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
        // Another seed: without job.init_from this job's weights would be another draw altogether.
        using (var next = new CmmProcess(Args("e2e-init-b", 1, 1, every: 1, "--set", "job.init_from=e2e-init-a", "--set", "job.seed=2", "--set", "optimizer.warmup_steps=1")))
        {
            Assert.True(next.WaitForExit(Patience) == 0, next.Output);
            Assert.Contains("starting from the weights of job e2e-init-a's checkpoint step 2 (job.init_from)", next.Output);
        }

        var from = await CommittedWeights.ReadAsync(_runs, "e2e-init-a", 2);
        var started = await CommittedWeights.ReadAsync(_runs, "e2e-init-b", 1);
        // One optimizer step from where job a left them: Adam moves a weight by about lr (1e-3) a step. The teacher and
        // centre follow the student by their own averages, so only the student's weights are compared.
        foreach (var (name, values) in from.Where(w => !w.Key.StartsWith("teacher.", StringComparison.Ordinal) && w.Key != "mim_center"))
            Assert.True(values.Zip(started[name]).All(p => Math.Abs(p.First - p.Second) < 5e-3), $"{name} is not where job e2e-init-a left it");

        using var missing = new CmmProcess(Args("e2e-init-c", 1, 1, every: 1, "--set", "job.init_from=e2e-nothing", "--set", "optimizer.warmup_steps=1"));
        Assert.Equal(2, missing.WaitForExit(Patience));
        Assert.Contains($"cmm: checkpoint problem: job.init_from: job 'e2e-nothing' has no committed checkpoint in file:{_runs}", missing.Output);
        Assert.DoesNotContain("starting 1 workers", missing.Output);
    }

    [Fact]
    public async Task FinalCheckpointNotSaved_ExitsOneSayingSo_AndTheNextRunRedoesTheStepsAndSavesThem()
    {
        // A file where the step-4 folder must go: both ranks' uploads of step 4 fail, as on a full or broken disk.
        string blocked = Path.Combine(_runs, "e2e-nosave", "checkpoints", "step-4");
        Directory.CreateDirectory(Path.GetDirectoryName(blocked)!);
        await File.WriteAllTextAsync(blocked, "in the way");
        using (var first = new CmmProcess(Args("e2e-nosave", 2, 4, every: 100)))
        {
            Assert.Equal(1, first.WaitForExit(Patience));
            Assert.Contains("could not save its part", first.Output);
            // The coordinator ends the job Failed (a Kubernetes Job fails with it: the workers exit JobFailed) and says why.
            Assert.Contains("cmm train: job 'e2e-nosave' failed: rank ", first.Output);
            Assert.Contains("reached the last step 4, but the final checkpoint was not committed", first.Output);
            Assert.Contains("no checkpoint is committed: fix that and launch the job again, which redoes steps 0..4 and saves them", first.Output);
            Assert.Contains($"worker exit codes: {WorkerExitCodes.JobFailed}, {WorkerExitCodes.JobFailed}", first.Output);
        }

        File.Delete(blocked);
        using var second = new CmmProcess(Args("e2e-nosave", 2, 4, every: 100));
        Assert.True(second.WaitForExit(Patience) == 0, second.Output);
        Assert.Contains("starting from seed", second.Output);
        Assert.Equal(4L, (await CheckpointCommitter.ReadLatestAsync(new FileBlobStore(_runs), "e2e-nosave"))!.Value.Pointer.Step);
    }

    [Fact]
    public async Task LatestCheckpointCorrupt_TheRelaunchSetsItAside_SoAPreemptionBeforeItsStepCommits()
    {
        foreach (int steps in new[] { 4, 40 }) // far apart: with faster steps the preemption's checkpoint once fell on step 12 itself
        {
            using var run = new CmmProcess(Args("e2e-corrupt", 2, steps, every: 100));
            Assert.True(run.WaitForExit(Patience) == 0, run.Output);
        }
        string model = Path.Combine(_runs, "e2e-corrupt", "checkpoints", "step-40", CheckpointFiles.Model);
        byte[] bytes = await File.ReadAllBytesAsync(model);
        bytes[^1] ^= 0x40;
        await File.WriteAllBytesAsync(model, bytes);

        using (var relaunch = new CmmProcess(Args("e2e-corrupt", 2, 1000, every: 1000)))
        {
            Assert.True(relaunch.WaitForLine("step 5 ", Patience), relaunch.Output);
            relaunch.Terminate();
            // Before, the coordinator refused the preemption's order as "not after the last committed checkpoint (step 40)",
            // and the workers exited 75 having lost every step since the restore.
            Assert.True(relaunch.WaitForExit(Patience) == 0, relaunch.Output);
            Assert.Contains("skipping checkpoint: step-40 is corrupt", relaunch.Output);
            Assert.Contains("restoring checkpoint step 4", relaunch.Output);
            Assert.Contains("the coordinator set aside the checkpoints after 4", relaunch.Output);
        }

        var store = new FileBlobStore(_runs);
        long latest = (await CheckpointCommitter.ReadLatestAsync(store, "e2e-corrupt"))!.Value.Pointer.Step;
        Assert.InRange(latest, 5, 39);
        Assert.Equal(latest, (await CheckpointCatalog.FindNewestVerifiedAsync(store, "e2e-corrupt")).Checkpoint?.Step);
        Assert.Null(await CheckpointCatalog.ReadManifestAsync(store, "e2e-corrupt", 40));
        using var list = new CmmProcess(["checkpoints", "list", "--set", "job.name=e2e-corrupt", "--set", $"checkpoint.store=file:{_runs}"]);
        Assert.True(list.WaitForExit(Patience) == 0, list.Output);
        Assert.Matches(@"\n +40 .* broken: set aside [-0-9]+ [0-9:]+Z: it failed verification: file 'model.safetensors': SHA-256 expected", list.Output);
    }

    [Fact]
    public void SecondLaunchOfARunningJob_IsRefusedNamingTheFirst_WhichStatusFindsWithoutOptions()
    {
        string[] here = ["--set", "job.name=e2e-twice", "--set", $"checkpoint.store=file:{_runs}"];
        using var first = new CmmProcess(Args("e2e-twice", 2, 1000, every: 1000));
        Assert.True(first.WaitForLine("step 2 ", Patience), first.Output);
        using (var second = new CmmProcess(Args("e2e-twice", 2, 1000, every: 1000)))
        {
            Assert.Equal(2, second.WaitForExit(Patience));
            Assert.Contains($"cmm: job 'e2e-twice' is already running from file:{_runs} (cmm train, pid {first.Id}, since ", second.Output);
            Assert.Contains(", coordinator at http://127.0.0.1:", second.Output);
            Assert.DoesNotContain("starting 2 workers", second.Output); // no coordinator of its own
        }
        // Another terminal: no --coordinator, no token; the launch is found through the store.
        using (var status = new CmmProcess(["status", .. here]))
        {
            Assert.True(status.WaitForExit(Patience) == 0, status.Output);
            Assert.Contains("job e2e-twice: Running", status.Output);
            Assert.Contains("local-0", status.Output);
        }
        long seen = StepLog.Rank0Figures(first.Output).Keys.Max();
        Assert.True(first.WaitForLine($"step {seen + 3} ", Patience), first.Output);
        first.Terminate();
        Assert.Equal(0, first.WaitForExit(Patience));
        Assert.DoesNotContain("ETag mismatch", first.Output);

        using var after = new CmmProcess(["status", .. here]);
        Assert.Equal(2, after.WaitForExit(Patience));
        Assert.Contains("cmm: no `cmm train` or `cmm coordinator` is running job 'e2e-twice' from the spec's store on this machine", after.Output);
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
