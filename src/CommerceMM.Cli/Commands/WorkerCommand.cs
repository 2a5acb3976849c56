using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Hosting;
using CommerceMM.Observability.Logging;
using CommerceMM.Worker;
using CommerceMM.Worker.Training;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm worker`: one training process of a job (one per GPU in production; CPU processes here).</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var gateways = CommonOptions.Gateways();
        var job = CommonOptions.Job();
        var tokenFile = CommonOptions.TokenFile();
        var json = CommonOptions.JsonLogs();
        var workerId = new Option<string?>("--worker-id") { Description = "stable worker identity, e.g. the pod name (env CMM_WORKER_ID; default host-pid)" };
        var interfaceHost = new Option<string>("--interface")
        {
            Description = "address of this machine that peers reach for Gloo (env CMM_POD_IP; default 127.0.0.1)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_POD_IP") ?? "127.0.0.1",
        };
        var auditDir = new Option<string?>("--audit-dir")
        {
            Description = "append each step's consumed sample keys to DIR/audit-<worker>.jsonl (env CMM_AUDIT_DIR)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_AUDIT_DIR"),
        };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "serve this worker's /metrics on this port (0: any free port; env CMM_METRICS_PORT)" };
        var threads = new Option<int?>("--threads")
        {
            Description = $"intra-op threads when the job's job.threads is 0 (env {ThreadsVariable}; default: every CPU this process may use). " +
                          "`cmm train` gives each of its N workers cores / N; the Kubernetes manifests pass the pod's CPU request",
        };
        var memoryLimit = new Option<int?>(HostMemoryLimit.Option)
        {
            Description = $"on the CPU, the most host memory this worker may allocate, in MiB; a step that needs more fails naming data.batch_size " +
                          $"instead of meeting the kernel's out-of-memory killer (env {HostMemoryLimit.Variable}; 0: no limit; default: the memory " +
                          "free as it starts, at most the container's limit). `cmm train` gives each of its N workers 1/N of what is free",
        };
        NumberOptions.RefuseNegative(memoryLimit, "is not a size: give MiB, or 0 for no limit");
        var command = new StoppableCommand("worker", "Run one worker process: join the job, train, heartbeat, checkpoint on order. Exit 0 when done or stopped by `cmm stop`; 75 after a SIGTERM (it left at a checkpoint; started again, it rejoins, and resumes the job if every worker left) or when cut off: start it again.")
            { gateways, job, tokenFile, json, workerId, interfaceHost, metricsPort, threads, memoryLimit, auditDir };
        command.SetAction(async (r, _) =>
        {
            var identity = new LogIdentity(r.GetValue(job)!);
            using var loggers = CliLogging.Create(identity, r.GetValue(json));
            var signals = Signals.ForProcess();
            if (!TryThreads(r.GetValue(threads), out int? workerThreads, out string? problem)
                || !TryMemoryLimit(r.GetValue(memoryLimit), out int? memoryLimitMib, out problem))
            {
                loggers.CreateLogger("cmm.worker").LogError("{Problem}", problem);
                return WorkerExitCodes.BadSpec;
            }
            var options = new WorkerOptions
            {
                Coordinator = r.GetValue(gateways)!,
                Job = r.GetValue(job)!,
                Token = JobToken.Read(r.GetValue(tokenFile)),
                WorkerId = r.GetValue(workerId) ?? Environment.GetEnvironmentVariable("CMM_WORKER_ID") ?? $"{Environment.MachineName}-{Environment.ProcessId}",
                InterfaceHost = r.GetValue(interfaceHost)!,
                MetricsPort = r.GetValue(metricsPort) ?? (int.TryParse(Environment.GetEnvironmentVariable("CMM_METRICS_PORT"), out int p) ? p : null),
                AuditDirectory = r.GetValue(auditDir),
                Threads = workerThreads,
                MemoryLimitMib = memoryLimitMib,
            };
            return await WorkerRunner.RunAsync(options, loggers, identity, signals.Graceful, signals.Immediate).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>--memory-limit-mib, else its variable, else null (the memory free as it starts); false with the reason for a variable that is no size.</summary>
    private static bool TryMemoryLimit(int? option, out int? mib, out string? problem)
    {
        string? text = Environment.GetEnvironmentVariable(HostMemoryLimit.Variable);
        (mib, problem) = (option, null);
        if (option is not null || string.IsNullOrWhiteSpace(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed))
        {
            mib = parsed;
            return true;
        }
        problem = $"{HostMemoryLimit.Variable}='{text}' is not a size: set whole MiB (e.g. 8192), 0 for no limit, or unset it for the memory free as the worker starts";
        return false;
    }

    /// <summary>The worker's share of the machine's cores (the launcher and the Kubernetes manifests set it).</summary>
    internal const string ThreadsVariable = "CMM_WORKER_THREADS";

    /// <summary>--threads, else <see cref="ThreadsVariable"/>, else null; false with the reason for a value below 1 or not a number.</summary>
    private static bool TryThreads(int? option, out int? threads, out string? problem)
    {
        string? text = Environment.GetEnvironmentVariable(ThreadsVariable);
        (threads, problem) = (option, null);
        if (option is null && !string.IsNullOrWhiteSpace(text))
            threads = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ? parsed : 0;
        if (threads is null or >= 1) return true;
        problem = option is not null
            ? $"--threads must be at least 1, got {option}"
            : $"{ThreadsVariable}='{text}' is not a thread count: set a whole number of at least 1 (from a pod's requests.cpu: divisor \"1\"), " +
              "or unset it to use every CPU this process may use";
        return false;
    }
}
