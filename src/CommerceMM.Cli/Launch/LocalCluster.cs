using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CommerceMM.Cli.Bench;
using CommerceMM.Cli.Commands;
using CommerceMM.Cli.Hosting;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Observability.Metrics;
using CommerceMM.Storage.Blobs;
using CommerceMM.Worker;
using CommerceMM.Worker.Spec;
using CommerceMM.Worker.Training;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// `cmm train` on one machine: the coordinator in this process (on 127.0.0.1, where workers also rendezvous),
/// N worker processes of this same program, exactly as a cluster runs them. Ctrl+C / SIGTERM is
/// passed to every worker as a preemption: all of them leaving, they checkpoint together and exit, and the next `cmm train`
/// resumes. A worker that exits otherwise (killed, or preempted alone and left) is started again, as a Job re-creates a pod.
/// </summary>
internal sealed class LocalCluster
{
    private const int SigTerm = 15;
    private const int SigKilled = 128 + 9;   // the exit status of a process killed by SIGKILL

    /// <summary>How often the targets file follows the status: well within a scrape interval, cheap for the coordinator.</summary>
    private static readonly TimeSpan TargetsRefresh = TimeSpan.FromSeconds(0.5);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>
    /// Each worker's part of the memory this machine has free, which a worker on the CPU caps itself at: N workers that each
    /// need more than that / N cannot all fit, and whoever went past it would meet the out-of-memory killer, which may take a
    /// step of swapping first. None where the variable sets the workers' limit, or the memory cannot be read.
    /// </summary>
    private static string[] MemoryShare(int workers) =>
        Environment.GetEnvironmentVariable(HostMemoryLimit.Variable) is null && ProcessMemory.AvailableBytes() is { } available
            ? [HostMemoryLimit.Option, Math.Max(1, available / workers >> 20).ToString(CultureInfo.InvariantCulture)]
            : [];

    /// <param name="store">the spec's checkpoint store, opened and checked</param>
    /// <param name="resetCoordinatorState">move the job's coordinator state aside first (--reset-coordinator-state)</param>
    public static async Task<int> RunAsync(TrainingSpec spec, IBlobStore store, Action<ILoggingBuilder> logging, Signals signals, LocalMetricsOptions? metrics = null,
                                           bool resetCoordinatorState = false)
    {
        metrics ??= LocalMetricsOptions.Off;
        string token = JobToken.NewToken();
        using var owner = await LocalLaunch.TakeAsync(store, spec, "cmm train", CancellationToken.None).ConfigureAwait(false);
        if (resetCoordinatorState) await CoordinatorStateReset.RunAsync(store, spec.Job.Name, CancellationToken.None).ConfigureAwait(false);
        await using var coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            Job = SpecJson.ToJobSpec(spec),
            Token = token,
            BlobStore = store,
            Urls = ["http://127.0.0.1:0"],
            // Workers heartbeat every step; a short interval keeps checkpoint orders only a few steps ahead.
            Liveness = new LivenessOptions { HeartbeatInterval = TimeSpan.FromSeconds(0.5) },
        }, logging).ConfigureAwait(false);
        owner.UpdateOwner(LocalLaunch.This("cmm train", coordinator.BaseAddress, token).ToJson());
        Console.WriteLine($"coordinator at {coordinator.BaseAddress}; starting {spec.Job.Workers} workers (`cmm status` in another terminal shows the job)");

        PrometheusTargets? targets = null;
        if (metrics.Enabled)
        {
            targets = new PrometheusTargets(metrics.TargetsFile ?? PrometheusTargets.DefaultPath(spec.Checkpoint.Store, spec.Job.Name), spec.Job.Name, coordinator.MetricsUri);
            targets.Update([]);
            Console.WriteLine($"metrics: coordinator at {coordinator.MetricsUri}; Prometheus file_sd targets in {targets.Path} (workers are added as they report)");
        }

        var environment = new Dictionary<string, string> { [JobToken.Variable] = token };
        // Port 0: each worker binds a free port and reports the URL in its heartbeats; the targets file follows the status.
        string[] workerMetrics = metrics.Enabled ? ["--metrics-port", "0"] : [];
        // The workers share this machine: each gets its part of the cores (where job.threads leaves that to them).
        string threads = Math.Max(1, Environment.ProcessorCount / spec.Job.Workers).ToString(CultureInfo.InvariantCulture);
        string[] memory = MemoryShare(spec.Job.Workers);
        Process StartWorker(int i) => SelfProcess.Start(
            ["worker", "--gateways", coordinator.Gateway, "--job", spec.Job.Name, "--worker-id", $"local-{i}", "--threads", threads, .. memory, .. workerMetrics],
            redirectOutput: false, environment);
        using var client = new JobStatusClient(new JobStatusClientOptions { BaseAddress = coordinator.BaseAddress, Job = spec.Job.Name, Token = token });
        // The job's step as each worker started, and whether it has moved since (on, or back to a commit and on again after
        // a restart elsewhere): a worker that keeps crashing while the step stands still is in a loop.
        long stepNow = LiveView.StepOf(await client.GetStatusAsync().ConfigureAwait(false));
        var workers = Enumerable.Range(0, spec.Job.Workers).Select(StartWorker).ToList();
        // Process.StartTime cannot be read once a process has exited, so the launcher keeps its own (seen within one poll).
        var started = workers.Select(_ => Stopwatch.GetTimestamp()).ToArray();
        var startStep = workers.Select(_ => stepNow).ToArray();
        var stepMoved = new bool[workers.Count];
        var guards = workers.Select(_ => new CrashLoopGuard()).ToArray();
        var view = new LiveView(spec);
        async Task<JobStatusView> StatusAsync()
        {
            var status = await client.GetStatusAsync().ConfigureAwait(false);
            stepNow = LiveView.StepOf(status);
            for (int i = 0; i < startStep.Length; i++) stepMoved[i] |= stepNow != startStep[i];
            return status;
        }
        bool forwarded = false;
        var progress = Stopwatch.StartNew();
        var targetsClock = Stopwatch.StartNew();
        while (true)
        {
            for (int i = 0; i < workers.Count && !forwarded; i++)
            {
                // A worker that crashed, was killed or left after its checkpoint comes back under the same id and rejoins;
                // exit 0 (done) and 2 (bad spec) are final. One that left when every worker did (each sent SIGTERM, not by
                // this launcher) exits 75 too, and its return resumes the job that stopped for it.
                var w = workers[i];
                if (!w.HasExited || w.ExitCode is 0 or 2 || guards[i].GaveUp) continue;
                var state = (await StatusAsync().ConfigureAwait(false)).State;
                if (state is JobState.Completed or JobState.Failed || (state is JobState.Stopped && w.ExitCode != WorkerExitCodes.Retry)) continue;
                var ranFor = Stopwatch.GetElapsedTime(started[i]);
                string killed = w.ExitCode == SigKilled
                    ? $"; exit 137 is SIGKILL, on Linux most often the out-of-memory killer: if memory ran out, lower data.batch_size (now {spec.Data.BatchSize})" : "";
                if (!guards[i].Restart(ranFor, w.ExitCode, jobAdvanced: stepMoved[i]))
                {
                    Console.WriteLine($"[cmm train] worker local-{i} exited with {w.ExitCode}, and each of its last {guards[i].LoopCrashes} starts crashed within " +
                                      $"{CrashLoopGuard.QuickCrash.TotalSeconds:F0} s or while the job stood at step {startStep[i]}: a crash loop, so it is not started again; " +
                                      $"the job goes on without it (its log above says why it exits{killed})");
                    continue;
                }
                string loop = guards[i].LastCounted ? $"; crashes in a row within {CrashLoopGuard.QuickCrash.TotalSeconds:F0} s or while the step stood still: {guards[i].LoopCrashes} of {CrashLoopGuard.MaxLoopCrashes} allowed" : "";
                Console.WriteLine($"[cmm train] worker local-{i} exited with {w.ExitCode}; restarting it (it ran {ranFor.TotalSeconds:F0} s{loop}{killed})");
                (workers[i], started[i], startStep[i], stepMoved[i]) = (StartWorker(i), Stopwatch.GetTimestamp(), stepNow, false);
            }
            if (workers.All(w => w.HasExited)) break;
            if (targets is not null && targetsClock.Elapsed > TargetsRefresh)
            {
                targetsClock.Restart();
                targets.Update((await StatusAsync().ConfigureAwait(false)).Members);
            }
            if (signals.Graceful.IsCancellationRequested && !forwarded)
            {
                forwarded = true;
                Console.WriteLine("stopping: asking every worker to checkpoint and exit (Ctrl+C again to stop waiting)");
                foreach (var w in workers.Where(w => !w.HasExited)) kill(w.Id, SigTerm);
            }
            if (signals.Immediate.IsCancellationRequested)
            {
                foreach (var w in workers.Where(w => !w.HasExited)) w.Kill(entireProcessTree: true);
                break;
            }
            if (progress.Elapsed > LiveView.Interval)
            {
                progress.Restart();
                view.Print(await StatusAsync().ConfigureAwait(false));
            }
            await Task.Delay(200).ConfigureAwait(false);
        }

        var status = await client.GetStatusAsync().ConfigureAwait(false);
        targets?.Clear();
        Console.WriteLine();
        StatusCommand.Print(status);
        Console.WriteLine($"worker exit codes: {string.Join(", ", workers.Select(w => w.HasExited ? w.ExitCode : -1))}");
        // Last, where it is seen: the status above can run to a screen with many workers.
        if (status.State == JobState.Failed) Console.Error.WriteLine($"cmm train: job '{status.Job}' failed: {status.StateReason}");
        else if (!forwarded && status.State is JobState.Pending or JobState.Running)
        {
            string from = status.LastCommittedCheckpoint is { } last ? $"step {last.Step}" : "the start";
            Console.Error.WriteLine(workers.Any(w => w.ExitCode == WorkerExitCodes.BadSpec)
                ? $"cmm train: the workers of job '{status.Job}' stopped on a problem no restart gets past (exit 2, above); fix it, and `cmm train` resumes from {from}"
                : $"cmm train: every worker of job '{status.Job}' has exited before it ended; `cmm train` again resumes it from {from}");
        }
        // After Ctrl+C every worker exits 75 (it left at the common checkpoint, or had no rank to save yet) or 0 (the job
        // ended first); after `cmm stop` 0. Either way the next `cmm train` resumes from the last commit.
        bool leftCleanly = workers.All(w => w.HasExited && w.ExitCode is WorkerExitCodes.Done or WorkerExitCodes.Retry);
        return status.State == JobState.Completed || ((forwarded || status.State == JobState.Stopped) && leftCleanly) ? 0 : 1;
    }

}
