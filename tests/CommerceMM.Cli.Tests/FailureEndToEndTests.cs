using System.Text.RegularExpressions;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Storage.Tests.Azure;
using CommerceMM.Worker;
using CommerceMM.Worker.Training;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Cli.Tests;

/// <summary>Failures with real processes: a worker killed with SIGKILL, a coordinator killed and restarted, bad URLs and tokens.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class FailureEndToEndTests(SmallCorpus corpus, AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    /// <param name="azure">checkpoints in Azurite (a new container) instead of the file store: a kill can land mid-upload there too</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KillOneWorker_JobContinuesInANewGeneration_AndNoCommittedSampleIsConsumedTwiceOrSkipped(bool azure)
    {
        const string job = "e2e-kill";
        const int steps = 12, batch = 4;
        string audit = Path.Combine(_runs, "audit");
        var checkpoints = await CheckpointStoreForCmm.CreateAsync(azure, _runs, azurite);
        using var cmm = new CmmProcess(checkpoints.EnvironmentWith(AuditLog.Environment(audit)),
            ["train", "--workers", "3", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps, batch, every: 3), .. checkpoints.Args]);
        Assert.True(cmm.WaitForLine("step 5 ", Patience), cmm.Output);
        CmmProcess.KillHard($"--job {job}", "--worker-id local-2");
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        Assert.Contains("rejoining", cmm.Output);
        // Noticed through the survivors' collective, at once (measured: 84 ms after the kill), not by waiting out a heartbeat.
        Assert.Contains("reported a failed collective", cmm.Output);
        Assert.Contains("worker local-2 exited with 137; restarting it", cmm.Output);
        var latest = await CheckpointCommitter.ReadLatestAsync(checkpoints.Store, job);
        Assert.True(latest is not null, "the job committed nothing to the test's store");
        Assert.Equal(steps, latest.Value.Pointer.Step);

        await AssertTheFirstSamplesCountedOnceAsync(audit, steps);
    }

    [Fact]
    public async Task PreemptOneWorker_ItLeavesAfterItsCheckpoint_TheOtherGoesOn_ItsReplacementGrowsTheJobBack_NothingRedoneOrRestarted()
    {
        // As Kubernetes preempts one worker pod: SIGTERM to that worker alone. It checkpoints and leaves (exit 75, so that its
        // Job re-creates it; here the launcher restarts it), the other trains on alone, and the restarted one grows the job
        // back to two at the next checkpoint. Nothing failed, so nothing counts as a restart: with job.max_restarts=0 one
        // would fail the job; and no step is trained twice.
        // 2,000 products, so that all 200 steps fit one epoch and the survivor alone (~70 ms a step) is still training when
        // the restarted worker joins (2 s after its exit, measured).
        const string job = "e2e-leave";
        const int steps = 200, batch = 4;
        string data = Path.Combine(_runs, "data"), audit = Path.Combine(_runs, "audit");
        await FashionDatasetBuilder.BuildAsync(new FashionDatasetOptions { OutputDirectory = data, TrainLimit = 2000, EvalLimit = 40, VocabSize = 600 });
        using var cmm = new CmmProcess(AuditLog.Environment(audit), ["train", "--workers", "2",
            .. TrainingArgs.Overrides(job, data, _runs, steps, batch, every: 1000), "--set", "job.max_restarts=0"]);
        Assert.True(cmm.WaitForLine("step 3 ", Patience), cmm.Output);
        CmmProcess.Preempt($"--job {job}", "--worker-id local-1");
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);

        var ordered = Regex.Match(cmm.Output, @"SIGTERM: checkpoint ordered at step (\d+); this worker leaves the job once it commits");
        Assert.True(ordered.Success, cmm.Output);
        string step = ordered.Groups[1].Value;
        Assert.Contains($"left the job after its checkpoint at step {step} committed", cmm.Output);
        Assert.Contains($"(worker 'local-1') left after checkpoint at step {step} (preempted (SIGTERM)); going on with 1 worker(s)", cmm.Output);
        Assert.Contains($"worker local-1 exited with {WorkerExitCodes.Retry}; restarting it", cmm.Output);
        var grown = Regex.Match(cmm.Output, @"worker 'local-1' joined after checkpoint at step (\d+); going on with 2 worker\(s\)");
        Assert.True(grown.Success, cmm.Output);
        Assert.DoesNotContain("reported a failed collective", cmm.Output); // every rank held at the checkpoints instead of failing a step
        Assert.Contains("Completed", cmm.Output);

        await AssertTheFirstSamplesCountedOnceAsync(audit, steps, data);
        // Both regroups happened at a checkpoint every rank held at, so no step was trained twice (in two generations).
        var redone = AuditLog.Read(audit).GroupBy(r => r.Step).Where(g => g.Select(r => r.Generation).Distinct().Count() > 1).Select(g => g.Key).ToList();
        Assert.True(redone.Count == 0, $"steps trained again after a regroup: {string.Join(", ", redone)}\n{cmm.Output}");
        Assert.True(long.Parse(grown.Groups[1].Value) > long.Parse(step), cmm.Output);
    }

    [Fact]
    public async Task PreemptEveryWorkerAtOnce_AsASpotReclaimOfEveryNode_TheyLeaveAtOneCheckpoint_AndTheirRestartsResumeTheJob()
    {
        // SIGTERM to each worker, not to the launcher: a reclaim of every node, after which a Job re-creates the pods. Before,
        // the job stopped for good there and the workers exited 0 (an Indexed Job then completes with the training
        // unfinished); now they exit 75, and the first one back reopens the job at that checkpoint. Nothing counts as a
        // restart (job.max_restarts=0), and no step is trained twice.
        const string job = "e2e-wave";
        const int steps = 40, batch = 4;
        string audit = Path.Combine(_runs, "audit");
        using var cmm = new CmmProcess(AuditLog.Environment(audit), ["train", "--workers", "2",
            .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps, batch, every: 1000), "--set", "job.max_restarts=0"]);
        Assert.True(cmm.WaitForLine("step 3 ", Patience), cmm.Output);
        CmmProcess.Preempt($"--job {job}", "--worker-id local-0");
        CmmProcess.Preempt($"--job {job}", "--worker-id local-1");
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);

        var stopped = Regex.Match(cmm.Output, @"left the job after its checkpoint at step (\d+) committed; every worker left, so the job stopped there");
        Assert.True(stopped.Success, cmm.Output);
        Assert.Contains($"worker local-0 exited with {WorkerExitCodes.Retry}; restarting it", cmm.Output);
        Assert.Contains($"worker local-1 exited with {WorkerExitCodes.Retry}; restarting it", cmm.Output);
        Assert.Contains($"restoring checkpoint step {stopped.Groups[1].Value}", cmm.Output);
        Assert.Contains("Completed", cmm.Output);
        Assert.Contains("restarts 0", cmm.Output);

        await AssertTheFirstSamplesCountedOnceAsync(audit, steps);
        var redone = AuditLog.Read(audit).GroupBy(r => r.Step).Where(g => g.Select(r => r.Generation).Distinct().Count() > 1).Select(g => g.Key).ToList();
        Assert.True(redone.Count == 0, $"steps trained again after the resume: {string.Join(", ", redone)}\n{cmm.Output}");
    }

    [Fact]
    public void PreemptOneWorker_WhileCheckpointsFail_TheRanksTrainOnAndItLeavesAtTheFirstThatCommits()
    {
        // Files where the folders of steps 1 to 30 must go: every checkpoint up to step 30 fails, as on a broken store. The
        // ranks holding at a failed one train on at once (the grace, 10 minutes here, would outlast the test), and the
        // preempted worker asks to leave again, until a checkpoint commits.
        const string job = "e2e-leave-failing";
        string checkpoints = Path.Combine(_runs, job, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        for (int step = 1; step <= 30; step++) File.WriteAllText(Path.Combine(checkpoints, $"step-{step}"), "in the way");
        using var cmm = new CmmProcess(["train", "--workers", "2", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 60, batch: 4, every: 1000),
            "--set", "checkpoint.grace_seconds=600"]);
        Assert.True(cmm.WaitForLine("step 3 ", Patience), cmm.Output);
        CmmProcess.Preempt($"--job {job}", "--worker-id local-1");
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);

        Assert.Contains("could not save its part", cmm.Output);
        Assert.Contains("did not commit (`cmm status` says why); training on, and asking to leave again at the next step", cmm.Output);
        var left = Regex.Match(cmm.Output, @"left the job after its checkpoint at step (\d+) committed");
        Assert.True(left.Success, cmm.Output);
        Assert.True(long.Parse(left.Groups[1].Value) > 30, cmm.Output);
        Assert.Contains("Completed", cmm.Output);
    }

    [Fact]
    public void RestartsRunOut_TheJobEndsFailed_AndTheSurvivorExitsJobFailed()
    {
        // job.max_restarts=0: the first lost worker fails the job. Before, the spec had no way to set the limit (always 100),
        // and the survivor tried to rejoin the ended job, logged "lost the coordinator" and exited 75 (to be restarted).
        const string job = "e2e-norestart";
        using var cmm = new CmmProcess(["train", "--workers", "2", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 1000, batch: 4, every: 1000),
            "--set", "job.max_restarts=0"]);
        Assert.True(cmm.WaitForLine("step 5 ", Patience), cmm.Output);
        CmmProcess.KillHard($"--job {job}", "--worker-id local-1");
        Assert.Equal(1, cmm.WaitForExit(Patience));
        Assert.Contains($"cmm train: job '{job}' failed: gave up after 0 restarts", cmm.Output);
        Assert.Contains("the coordinator ended the job Failed", cmm.Output);
        Assert.Contains($"worker exit codes: {WorkerExitCodes.JobFailed}, ", cmm.Output);
    }

    [Fact]
    public void FrozenWorker_ItsPeersGiveUpAfterTheHeartbeatTimeout_AndTheJobGoesOn()
    {
        // A frozen worker (SIGSTOP: a hung device, a stalled node) is alive and keeps its connections, so its peers'
        // collective only ends by timing out. It used to wait out the 2-minute start-up timeout; it now waits the
        // coordinator's heartbeat timeout (10 s for these short steps) and a margin, and the job goes on once the frozen one
        // is replaced.
        const string job = "e2e-frozen";
        using var cmm = new CmmProcess(["train", "--workers", "3", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 16, batch: 4, every: 4)]);
        Assert.True(cmm.WaitForLine("step 5 ", Patience), cmm.Output);
        CmmProcess.Freeze($"--job {job}", "--worker-id local-2");
        Assert.True(cmm.WaitForLine("reporting and rejoining", Patience), cmm.Output);
        var waited = Regex.Matches(cmm.Output, @"did not complete within (\d+) ms").Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.NotEmpty(waited);
        Assert.All(waited, ms => Assert.InRange(ms, 10_000, 60_000)); // the heartbeat timeout's floor and a few steps, not 120,000
        // The ranks waiting on it heartbeat while they wait, so the coordinator evicts the frozen one, by name, and no other.
        Assert.Contains("(worker 'local-2') missed its heartbeat", cmm.Output);
        Assert.DoesNotContain("(worker 'local-1') missed its heartbeat", cmm.Output);
        Assert.DoesNotContain("(worker 'local-3') missed its heartbeat", cmm.Output);

        CmmProcess.KillHard($"--job {job}", "--worker-id local-2"); // as a supervisor would replace it
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        Assert.Contains("worker local-2 exited with 137; restarting it", cmm.Output);
    }

    [Fact]
    public async Task FrozenWorker_ThawedAfterItsPeersMovedOn_IsFencedOff_RejoinsAndNoSampleCountsTwice()
    {
        // A stall that ends (a node that recovers): the thawed worker still holds the old generation's rank, a step in
        // flight and sockets its peers have closed. The coordinator must fence off whatever it sends for that generation,
        // and it must come back through a new one, without any sample counting twice. 30 steps (360 samples, within the
        // epoch): it joins at the survivors' next checkpoint, which must come before the end.
        const string job = "e2e-thawed";
        const int steps = 30, batch = 4;
        string audit = Path.Combine(_runs, "audit");
        using var cmm = new CmmProcess(AuditLog.Environment(audit),
            ["train", "--workers", "3", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps, batch, every: 4)]);
        Assert.True(cmm.WaitForLine("step 5 ", Patience), cmm.Output);
        CmmProcess.Freeze($"--job {job}", "--worker-id local-2");
        Assert.True(cmm.WaitForLine("reporting and rejoining", Patience), cmm.Output);
        CmmProcess.Thaw($"--job {job}", "--worker-id local-2");

        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        Assert.DoesNotContain("worker local-2 exited", cmm.Output); // it came back on its own, no restart
        Assert.Contains("(stale generation)", cmm.Output);
        Assert.Contains(AuditLog.ReadWorker(audit, "local-2"), r => r.Generation > 1); // the thawed worker trained again, in a later generation
        await AssertTheFirstSamplesCountedOnceAsync(audit, steps);
    }

    /// <summary>
    /// The steps that reached the final weights (for each step, the newest generation that ran it) consumed exactly the
    /// first samples of the epoch order, each once, whatever the world sizes were.
    /// </summary>
    /// <param name="data">the job's data set; by default the shared small corpus</param>
    private async Task AssertTheFirstSamplesCountedOnceAsync(string audit, int steps, string? data = null)
    {
        var records = AuditLog.Read(audit);
        Assert.Contains(records, r => r.Generation > 1);
        var lineage = records.GroupBy(r => r.Step).OrderBy(g => g.Key)
            .Select(g => g.Where(r => r.Generation == g.Max(x => x.Generation)).ToList()).ToList();
        Assert.Equal(Enumerable.Range(0, steps).Select(s => (long)s), lineage.Select(g => g[0].Step));
        var consumed = lineage.SelectMany(g => g.SelectMany(r => r.Streams[StreamNames.Pairs])).ToList();
        Assert.Equal(consumed.Count, consumed.Distinct().Count()); // nothing twice

        // Nothing skipped: exactly the first N samples of the epoch order.
        await using var order = DataLoader.Pairs(new LoaderOptions
        {
            DatasetDirectory = data ?? corpus.Directory, Stream = StreamNames.Pairs, BatchSize = consumed.Count, Seed = 1, WorldSize = 1, Rank = 0,
        });
        using var first = await order.NextAsync();
        Assert.Equal(first.Keys.Order(), consumed.Order());
    }

    [Fact]
    public async Task KillCoordinator_AndRestartIt_WorkersRideItOutAndFinish()
    {
        const string job = "e2e-coordinator";
        int http = FreePorts.Next(), gateway = FreePorts.Next(), silo = FreePorts.Next();
        string[] coordinatorArgs = ["coordinator", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 16, batch: 4, every: 4),
            "--set", "job.workers=2", "--urls", $"http://127.0.0.1:{http}", "--gateway-port", $"{gateway}", "--silo-port", $"{silo}"];
        var coordinator = new CmmProcess(TokenEnvironment, coordinatorArgs);
        try
        {
            Assert.True(coordinator.WaitForLine("workers connect to its gateway", Patience), coordinator.Output);
            using var w0 = new CmmProcess(TokenEnvironment, "worker", "--gateways", $"127.0.0.1:{gateway}", "--job", job, "--worker-id", "w0", "--threads", "1");
            using var w1 = new CmmProcess(TokenEnvironment, "worker", "--gateways", $"127.0.0.1:{gateway}", "--job", job, "--worker-id", "w1", "--threads", "1");
            Assert.True(w0.WaitForLine("step 4 ", Patience), w0.Output);

            coordinator.KillHard();
            coordinator.WaitForExit(Patience);
            coordinator.Dispose();
            Thread.Sleep(2000); // the workers keep training on their Gloo group and retry their heartbeats
            coordinator = new CmmProcess(TokenEnvironment, coordinatorArgs);

            Assert.True(w0.WaitForExit(Patience) == 0, w0.Output + "\n---\n" + coordinator.Output);
            Assert.True(w1.WaitForExit(Patience) == 0, w1.Output);
            Assert.Contains("training complete at step 16", w0.Output);
            var latest = await CheckpointCommitter.ReadLatestAsync(new FileBlobStore(_runs), job);
            Assert.Equal(16, latest!.Value.Pointer.Step);
        }
        finally
        {
            coordinator.Dispose();
        }
    }

    [Fact]
    public void LoneCoordinatorOwnsItsJob_ASecondControlPlaneIsRefused_AndStatusFindsIt()
    {
        const string job = "e2e-lone";
        using var coordinator = StartLoneCoordinator(job);
        string[] overrides = LoneCoordinatorOverrides(job);

        using (var train = new CmmProcess(["train", .. overrides]))
        {
            Assert.Equal(2, train.WaitForExit(Patience));
            Assert.Contains($"cmm: job '{job}' is already running from file:{_runs} (cmm coordinator, pid {coordinator.Process.Id}, since ", train.Output);
            Assert.Contains($", coordinator at http://127.0.0.1:{coordinator.Http}/)", train.Output);
        }
        using (var status = new CmmProcess(TokenEnvironment, ["status", "--set", $"job.name={job}", "--set", $"checkpoint.store=file:{_runs}"]))
        {
            Assert.True(status.WaitForExit(Patience) == 0, status.Output);
            Assert.Contains($"job {job}: ", status.Output);
        }
        coordinator.Process.Terminate();
        Assert.Equal(0, coordinator.Process.WaitForExit(Patience));
    }

    [Fact]
    public void WorkerWaitingForItsPeers_ExitsAtOnceOnSigterm_AskingToBeStartedAgain()
    {
        const string job = "e2e-waiting";
        using var coordinator = StartLoneCoordinator(job, "--set", "job.min_workers=2");

        using var worker = new CmmProcess(TokenEnvironment, ["worker", "--gateways", $"127.0.0.1:{coordinator.Gateway}", "--job", job, "--worker-id", "w0"]);
        Assert.True(coordinator.Process.WaitForLine("worker w0 joined generation 1 (1/2)", Patience), coordinator.Process.Output);
        worker.Terminate();

        // Before, it went on waiting for its peer until the pod's grace period ran out and the kubelet killed it.
        Assert.Equal(75, worker.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Contains("SIGTERM before this worker held a rank: it has nothing to checkpoint; exiting 75", worker.Output);
        coordinator.Process.Terminate();
        Assert.Equal(0, coordinator.Process.WaitForExit(Patience));
    }

    [Fact]
    public async Task WorkerStartedForAJobThatEnded_ExitsZeroSayingSo_InsteadOfAskingToBeRestarted()
    {
        const string job = "e2e-ended";
        using var coordinator = StartLoneCoordinator(job);
        using (var status = new JobStatusClient(new JobStatusClientOptions
               { BaseAddress = new Uri($"http://127.0.0.1:{coordinator.Http}/"), Job = job, Token = TokenEnvironment["CMM_JOB_TOKEN"] }))
            Assert.Equal(JobState.Stopped, (await status.StopAsync()).State);

        // Say, a pod re-created after the job was over. Before, it logged "lost the coordinator" and exited 75, and a
        // Kubernetes Job retried it up to its backoff limit.
        using var worker = new CmmProcess(TokenEnvironment, ["worker", "--gateways", $"127.0.0.1:{coordinator.Gateway}", "--job", job, "--worker-id", "w9"]);
        Assert.Equal(WorkerExitCodes.Done, worker.WaitForExit(Patience));
        Assert.Contains($"job '{job}' is Stopped", worker.Output);
        Assert.Contains("nothing is left to train", worker.Output);
        Assert.DoesNotContain("lost the coordinator", worker.Output);
    }

    [Fact]
    public void WorkerStoppedWhileLibtorchLoads_StopsGracefully_NotByTheSignal()
    {
        using var worker = new CmmProcess(TokenEnvironment, ["worker", "--gateways", $"127.0.0.1:{FreePorts.Next()}", "--job", "e2e-early", "--worker-id", "w0"]);
        // libtorch loads in the first half second, before the command runs: stop the worker as soon as it is mapped.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.ReadAllText($"/proc/{worker.Id}/maps").Contains("libtorch_cpu", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < Patience, worker.Output);
            Thread.Sleep(2);
        }
        worker.Terminate();

        // Before, the handler did not exist yet: the process died of the signal (143) without a word.
        Assert.Equal(WorkerExitCodes.Retry, worker.WaitForExit(Patience));
        Assert.Contains("SIGTERM before this worker held a rank", worker.Output);
    }

    [Fact]
    public async Task WorkerStillConnecting_ExitsSeventyFiveOnSigterm_NotACrash()
    {
        // A gateway that hangs up on every connection: the worker retries its connecting (for about 25 s).
        var refusing = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        refusing.Start();
        int port = ((System.Net.IPEndPoint)refusing.LocalEndpoint).Port, hungUp = 0;
        var hangingUp = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var connection = await refusing.AcceptSocketAsync();
                    Interlocked.Increment(ref hungUp);
                }
            }
            catch (System.Net.Sockets.SocketException) { }
            catch (ObjectDisposedException) { }
        });
        try
        {
            using var worker = new CmmProcess(TokenEnvironment, ["worker", "--gateways", $"127.0.0.1:{port}", "--job", "e2e-connecting", "--worker-id", "w0"]);
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref hungUp) >= 2, Patience), worker.Output); // retrying: between attempts
            worker.Terminate();

            // Before, the client host's own SIGTERM handler cancelled the retries before the worker's handler had marked
            // the preemption: an unhandled TaskCanceledException, exit 134.
            Assert.Equal(75, worker.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("SIGTERM before this worker held a rank", worker.Output);
            Assert.DoesNotContain("Unhandled exception", worker.Output);
        }
        finally
        {
            refusing.Stop();
            await hangingUp;
        }
    }

    [Fact]
    public async Task WorkerWithAnInterfaceThisMachineLacks_ExitsTwoNamingIt_WithoutSpendingTheJobsRestarts()
    {
        const string job = "e2e-interface";
        using var coordinator = StartLoneCoordinator(job, "--set", "job.workers=1", "--set", "job.min_workers=1");

        // 192.0.2.1 (TEST-NET-1) is on no interface here.
        using (var worker = new CmmProcess(TokenEnvironment, ["worker", "--gateways", $"127.0.0.1:{coordinator.Gateway}", "--job", job, "--worker-id", "w0", "--interface", "192.0.2.1"]))
        {
            Assert.Equal(2, worker.WaitForExit(Patience));
            Assert.Contains("this worker cannot form a process group:", worker.Output);
            Assert.Contains("interface host '192.0.2.1' is not an address of this machine", worker.Output);
        }

        // Before, it rejoined at once, 100 times in under a second, and the job ended Failed ("gave up after 100 restarts").
        using var status = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{coordinator.Http}/") };
        status.DefaultRequestHeaders.Authorization = new("Bearer", TokenEnvironment["CMM_JOB_TOKEN"]);
        string view = await status.GetStringAsync($"v1/jobs/{job}/status");
        Assert.DoesNotContain("\"Failed\"", view);
        Assert.Contains("\"restarts\":1", view); // its one report ends the generation it could not join
        Assert.Contains("cannot form a process group on its machine", view);
        coordinator.Process.Terminate();
        Assert.Equal(0, coordinator.Process.WaitForExit(Patience));
    }

    [Fact]
    public void CorruptCoordinatorState_StopsTheStartWithOneMessage_AndIsLeftAsItIs_UntilAResetSetsItAside()
    {
        const string job = "e2e-corrupt-state";
        using (var first = new CmmProcess(["train", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 2, batch: 4, every: 0)]))
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
        string state = Path.Combine(_runs, job, "coordinator", "job.json");
        File.WriteAllText(state, "{\"garbage");
        string[] resumed = ["train", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 4, batch: 4, every: 0)];

        using (var cmm = new CmmProcess(resumed))
        {
            Assert.Equal(2, cmm.WaitForExit(Patience));
            Assert.Contains($"cmm: coordinator cannot start: grain state '{job}/coordinator/job.json' cannot be read: it is corrupt", cmm.Output);
            Assert.Contains("or start again with --reset-coordinator-state", cmm.Output);
            Assert.DoesNotContain("Exc level", cmm.Output); // Orleans' activation failure, logged with its stack traces
            Assert.DoesNotContain("   at ", cmm.Output);
            Assert.Equal("{\"garbage", File.ReadAllText(state));
        }

        using var reset = new CmmProcess([.. resumed, "--reset-coordinator-state"]);
        Assert.True(reset.WaitForExit(Patience) == 0, reset.Output);
        Assert.Contains($"--reset-coordinator-state: moved {job}/coordinator/job.json, {job}/coordinator/membership.json", reset.Output);
        Assert.Contains("restoring checkpoint step 2", reset.Output);
        Assert.Contains("last committed checkpoint: step 4", reset.Output);
        string aside = Assert.Single(Directory.GetDirectories(Path.Combine(_runs, job, "coordinator"), "set-aside-*"));
        Assert.Equal("{\"garbage", File.ReadAllText(Path.Combine(aside, "job.json")));
    }

    [Fact]
    public void Worker_UnreachableCoordinator_ExitsRetryWithAClearMessage()
    {
        using var worker = new CmmProcess(new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "any-token-0123456789" },
            "worker", "--gateways", $"127.0.0.1:{FreePorts.Next()}", "--job", "nobody");
        Assert.Equal(75, worker.WaitForExit(Patience));
        Assert.Contains("cannot reach the coordinator", worker.Output);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    public void Worker_ThreadsVariableNotACount_ExitsBadSpecNamingIt(string value)
    {
        using var worker = new CmmProcess(new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "any-token-0123456789", ["CMM_WORKER_THREADS"] = value },
            "worker", "--gateways", $"127.0.0.1:{FreePorts.Next()}", "--job", "nobody");
        Assert.Equal(2, worker.WaitForExit(Patience));
        Assert.Contains($"CMM_WORKER_THREADS='{value}' is not a thread count: set a whole number of at least 1", worker.Output);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    public void Worker_MemoryLimitVariableNotASize_ExitsBadSpecNamingIt(string value)
    {
        using var worker = new CmmProcess(new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "any-token-0123456789", [HostMemoryLimit.Variable] = value },
            "worker", "--gateways", $"127.0.0.1:{FreePorts.Next()}", "--job", "nobody");
        Assert.Equal(2, worker.WaitForExit(Patience));
        Assert.Contains($"{HostMemoryLimit.Variable}='{value}' is not a size: set whole MiB", worker.Output);
    }

    [Fact]
    public void BatchTooBigForTheWorkersMemory_FailsInItsFirstStepNamingTheBatch_AndNoWorkerIsStartedAgain()
    {
        // Each worker may allocate 2 GiB; 512 pairs a step take about 3 GiB at this size (6 MiB a sample, measured). Without the
        // cap Linux lets the allocations through and, with a batch too big for the machine, its out-of-memory killer ends the
        // workers after minutes of swapping, and again after every restart.
        using var cmm = new CmmProcess(new Dictionary<string, string> { [HostMemoryLimit.Variable] = "2048" },
            ["train", "--workers", "2", .. TrainingArgs.Overrides("e2e-oom", corpus.Directory, _runs, steps: 4, batch: 512, every: 2)]);

        Assert.Equal(1, cmm.WaitForExit(Patience));
        Assert.Matches(@"out of host memory on cpu in step \d+ with data\.batch_size=512 \(this process peaked at [\d.]+ GiB resident; it may allocate 2\.00 GiB \(--memory-limit-mib", cmm.Output);
        Assert.Matches(@"rank \d \(worker 'local-\d'\) reported out of host memory on cpu", cmm.Output); // the coordinator's word for it
        Assert.Contains("worker exit codes: 2, 2", cmm.Output);
        Assert.DoesNotContain("restarting it", cmm.Output);
    }

    [Fact]
    public void Worker_WrongToken_ExitsFatalNamingTheToken()
    {
        const string job = "e2e-token";
        int http = FreePorts.Next(), gateway = FreePorts.Next();
        using var coordinator = new CmmProcess(new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "right-token-0123456789" },
            ["coordinator", .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 2, batch: 4, every: 0), "--urls", $"http://127.0.0.1:{http}",
             "--gateway-port", $"{gateway}", "--silo-port", $"{FreePorts.Next()}"]);
        Assert.True(coordinator.WaitForLine("workers connect to its gateway", Patience), coordinator.Output);
        using var worker = new CmmProcess(new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "wrong-token-0123456789" },
            "worker", "--gateways", $"127.0.0.1:{gateway}", "--job", job);
        Assert.Equal(1, worker.WaitForExit(Patience));
        Assert.Contains("refused the job token", worker.Output);
        Assert.DoesNotContain("wrong-token-0123456789", worker.Output);
    }

    [Fact]
    public void Coordinator_ClusteringProviderUnreachable_FailsFastNamingItAndTheAddress()
    {
        string redis = $"127.0.0.1:{FreePorts.Next()}"; // nothing listens there
        using var coordinator = new CmmProcess(new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "any-token-0123456789" },
            ["coordinator", .. TrainingArgs.Overrides("e2e-redis-down", corpus.Directory, _runs, steps: 2, batch: 4, every: 0),
             "--urls", $"http://127.0.0.1:{FreePorts.Next()}", "--gateway-port", $"{FreePorts.Next()}", "--silo-port", $"{FreePorts.Next()}",
             "--clustering", $"redis={redis}"]);
        Assert.Equal(2, coordinator.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains($"the clustering provider redis at '{redis}' is unreachable", coordinator.Output);
        Assert.DoesNotContain("   at ", coordinator.Output); // a message, not a stack trace
    }

    [Fact]
    public void Train_InvalidSpec_NamesTheKeyAndStartsNothing()
    {
        using var cmm = new CmmProcess("train", "--set", "data.batch_size=0");
        Assert.Equal(2, cmm.WaitForExit(Patience));
        Assert.Contains("data.batch_size", cmm.Output);
        Assert.DoesNotContain("coordinator at", cmm.Output);
    }

    [Fact]
    public void Train_CudaOnAMachineWithout_NamesJobDeviceOnceAndTouchesNoJobState()
    {
        using var cmm = new CmmProcess("train", "--set", "job.device=cuda:3", "--set", $"checkpoint.store=file:{_runs}");
        Assert.Equal(2, cmm.WaitForExit(Patience));
        Assert.Single(cmm.Output.Split('\n'), l => l.StartsWith("cmm: job.device: 'cuda:3'", StringComparison.Ordinal));
        Assert.DoesNotContain("coordinator at", cmm.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_runs));
    }

    private static readonly Dictionary<string, string> TokenEnvironment = new() { ["CMM_JOB_TOKEN"] = "test-token-0123456789" };

    private string[] LoneCoordinatorOverrides(string job) => TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 4, batch: 4, every: 0);

    /// <summary>A lone `cmm coordinator` of <paramref name="job"/> on free ports, once it listens.</summary>
    private LoneCoordinator StartLoneCoordinator(string job, params string[] extra)
    {
        int http = FreePorts.Next(), gateway = FreePorts.Next();
        var process = new CmmProcess(TokenEnvironment, ["coordinator", .. LoneCoordinatorOverrides(job), .. extra,
            "--urls", $"http://127.0.0.1:{http}", "--gateway-port", $"{gateway}", "--silo-port", $"{FreePorts.Next()}"]);
        Assert.True(process.WaitForLine("workers connect to its gateway", Patience), process.Output);
        return new LoneCoordinator(process, http, gateway);
    }

    private sealed record LoneCoordinator(CmmProcess Process, int Http, int Gateway) : IDisposable
    {
        public void Dispose() => Process.Dispose();
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
