using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Data.Format;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Tests.Shared;
using Xunit.Abstractions;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// A control plane of two silos (two <c>cmm coordinator</c> processes on one Redis membership table) running a 2-worker
/// job; the silo hosting the job's grains is killed with SIGKILL mid-training. And what a running silo's claim on the
/// job refuses.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class SiloFailoverEndToEndTests(SmallCorpus corpus, ITestOutputHelper output) : IDisposable
{
    private const string Token = "failover-token-0123456789";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    [Fact]
    public async Task KillTheSiloHostingTheJob_TrainingGoesOnWithoutAWorkerRestart_NothingCommittedIsLost_TheNextCheckpointCommits()
    {
        const string job = "e2e-failover";
        const int steps = 160, batch = 4, every = 10;
        await using RedisServer redis = await RedisServer.StartAsync(TimeSpan.FromSeconds(20));
        string audit = Path.Combine(_runs, "audit");
        var environment = new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = Token, ["CMM_AUDIT_DIR"] = audit };
        Silo[] silos = [Silo.Start(environment, job, corpus.Directory, _runs, redis, steps, batch, every), Silo.Start(environment, job, corpus.Directory, _runs, redis, steps, batch, every)];
        try
        {
            Assert.All(silos, s => Assert.True(s.Process.WaitForLine("workers connect to its gateway", Patience), s.Process.Output));
            string gateways = string.Join(",", silos.Select(s => $"127.0.0.1:{s.Gateway}"));
            using var w0 = new CmmProcess(environment, "worker", "--gateways", gateways, "--job", job, "--worker-id", "w0", "--threads", "1");
            using var w1 = new CmmProcess(environment, "worker", "--gateways", gateways, "--job", job, "--worker-id", "w1", "--threads", "1");
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

            // Wait for a commit, then kill whichever silo hosts the job's grains now.
            JobStatusView before = await WaitForAsync(http, silos[0], s => s.LastCommittedCheckpoint is not null);
            Silo victim = silos.Single(s => before.ControlSilo!.Contains($":{s.SiloPort}:", StringComparison.Ordinal));
            Silo survivor = silos.Single(s => s != victim);
            long stepAtKill = before.Members.Max(m => m.LastStep ?? 0);
            long committedAtKill = before.LastCommittedCheckpoint!.Step;
            var clock = Stopwatch.StartNew();
            victim.Process.KillHard();

            JobStatusView moved = await WaitForAsync(http, survivor,
                s => s.ControlSilo!.Contains($":{survivor.SiloPort}:", StringComparison.Ordinal) && s.Members.Any(m => m.LastStep > stepAtKill + 1 && m.HeartbeatAgeSeconds < 5));
            TimeSpan toHeartbeat = clock.Elapsed;
            JobStatusView committed = await WaitForAsync(http, survivor, s => s.LastCommittedCheckpoint?.Step > Math.Max(committedAtKill, moved.Members.Max(m => m.LastStep ?? 0)));
            TimeSpan toCommit = clock.Elapsed;
            output.WriteLine($"kill -9 of the silo hosting job '{job}' at step {stepAtKill}: grains on the survivor and a heartbeat past it after {toHeartbeat.TotalSeconds:0.00} s; " +
                             $"next commit (step {committed.LastCommittedCheckpoint!.Step}) after {toCommit.TotalSeconds:0.00} s");

            Assert.Equal(0, w0.WaitForExit(Patience));
            Assert.Equal(0, w1.WaitForExit(Patience));
            // No worker restarted: the generation the job started with finished it.
            Assert.True(committed.Generation == 1, $"generation {committed.Generation}: {committed.StateReason}\n{w0.Output}\n---\n{survivor.Process.Output}");
            Assert.DoesNotContain("lost the coordinator", w0.Output + w1.Output);
            Assert.Contains($"training complete at step {steps}", w0.Output);
            var latest = (await CheckpointCommitter.ReadLatestAsync(new FileBlobStore(_runs), job))!.Value.Pointer;
            Assert.Equal(steps, latest.Step);
            AssertEachSampleConsumedOnce(audit, steps);
        }
        finally
        {
            foreach (Silo silo in silos)
            {
                silo.Process.Dispose();
            }
        }
    }

    [Fact]
    public async Task WhileASiloRuns_CmmTrainAndARollbackOfItsJobAreRefused_CmmStatusFindsIt_AndItLeavesNoClaimBehind()
    {
        const string job = "e2e-silo-claim";
        await using RedisServer redis = await RedisServer.StartAsync(TimeSpan.FromSeconds(20));
        var environment = new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = Token };
        string[] spec = TrainingArgs.Overrides(job, corpus.Directory, _runs, steps: 4, batch: 4, every: 0);
        var silo = Silo.Start(environment, job, corpus.Directory, _runs, redis, steps: 4, batch: 4, every: 0);
        using (silo.Process)
        {
            Assert.True(silo.Process.WaitForLine("workers connect to its gateway", Patience), silo.Process.Output);

            using var train = new CmmProcess(["train", .. spec]);
            Assert.Equal(2, train.WaitForExit(Patience));
            Assert.Contains($"cmm: job '{job}' runs on a multi-silo control plane from file:{_runs} (cmm coordinator, pid {silo.Process.Id}, since ", train.Output);
            Assert.Contains($"coordinator at http://127.0.0.1:{silo.Http}/): stop every silo of it first", train.Output);
            using var rollback = new CmmProcess(["checkpoints", "rollback", "--step", "1", .. spec]);
            Assert.Equal(2, rollback.WaitForExit(Patience));
            Assert.Contains($"cmm: job '{job}' has a multi-silo control plane up (cmm coordinator, pid {silo.Process.Id}, since ", rollback.Output);
            Assert.Contains($"coordinator at http://127.0.0.1:{silo.Http}/): stop every silo first", rollback.Output);
            using var status = new CmmProcess(environment, ["status", .. spec]); // no --coordinator: the silo's claim says where it listens
            Assert.Equal(0, status.WaitForExit(Patience));
            Assert.Contains($"job {job}: ", status.Output);

            silo.Process.Terminate();
            Assert.Equal(0, silo.Process.WaitForExit(Patience));
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_runs, ".cmm-store", "owners"), "silo-*"));
    }

    private static async Task<JobStatusView> WaitForAsync(HttpClient http, Silo silo, Func<JobStatusView, bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var status = await http.GetFromJsonAsync<JobStatusView>($"http://127.0.0.1:{silo.Http}/v1/jobs/e2e-failover/status", CoordinatorJson.Options);
                if (status is not null && done(status))
                {
                    return status;
                }
            }
            catch (HttpRequestException)
            {
                // The silo is starting, or the grains are moving: ask again.
            }

            Assert.True(deadline.Elapsed < Patience, $"the status never got there; silo output:\n{silo.Process.Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Every step ran once in the final lineage, and within each epoch (the small corpus wraps several times) no sample
    /// was consumed twice; every epoch the run finished consumed the same samples: none skipped.
    /// </summary>
    private static void AssertEachSampleConsumedOnce(string audit, int steps)
    {
        var records = AuditLog.Read(audit);
        var lineage = records.GroupBy(r => r.Step).OrderBy(g => g.Key)
            .Select(g => g.Where(r => r.Generation == g.Max(x => x.Generation)).ToList()).ToList();
        Assert.Equal(Enumerable.Range(0, steps).Select(s => (long)s), lineage.Select(g => g[0].Step));
        var epochs = lineage.SelectMany(g => g).GroupBy(r => r.Epoch).OrderBy(e => e.Key)
            .Select(e => e.SelectMany(r => r.Streams[StreamNames.Pairs]).ToList()).ToList();
        Assert.True(epochs.Count >= 2, $"the run covered {epochs.Count} epoch(s); the check wants a finished one");
        Assert.All(epochs, keys => Assert.Equal(keys.Count, keys.Distinct().Count()));
        Assert.All(epochs.Skip(1).SkipLast(1), keys => Assert.Equal(epochs[0].Order(), keys.Order()));
    }

    private sealed record Silo(CmmProcess Process, int Http, int Gateway, int SiloPort)
    {
        public static Silo Start(IReadOnlyDictionary<string, string> environment, string job, string data, string runs, RedisServer redis, int steps, int batch, int every)
        {
            int http = FreePorts.Next(), gateway = FreePorts.Next(), silo = FreePorts.Next();
            var process = new CmmProcess(environment,
                ["coordinator", .. TrainingArgs.Overrides(job, data, runs, steps, batch, every), "--set", "job.workers=2",
                 "--urls", $"http://127.0.0.1:{http}", "--gateway-port", $"{gateway}", "--silo-port", $"{silo}", "--clustering", $"redis={redis.Endpoint}"]);
            return new Silo(process, http, gateway, silo);
        }
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
