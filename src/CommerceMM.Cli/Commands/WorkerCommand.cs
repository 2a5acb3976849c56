using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Observability.Logging;
using CommerceMM.Worker;

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
        var command = new StoppableCommand("worker", "Run one worker process: join the job, train, heartbeat, checkpoint on order. Exit 0 when done or preempted after a checkpoint.")
            { gateways, job, tokenFile, json, workerId, interfaceHost, metricsPort, auditDir };
        command.SetAction(async (r, _) =>
        {
            var identity = new LogIdentity(r.GetValue(job)!);
            using var loggers = CliLogging.Create(identity, r.GetValue(json));
            var signals = Signals.ForProcess();
            var options = new WorkerOptions
            {
                Coordinator = r.GetValue(gateways)!,
                Job = r.GetValue(job)!,
                Token = JobToken.Read(r.GetValue(tokenFile)),
                WorkerId = r.GetValue(workerId) ?? Environment.GetEnvironmentVariable("CMM_WORKER_ID") ?? $"{Environment.MachineName}-{Environment.ProcessId}",
                InterfaceHost = r.GetValue(interfaceHost)!,
                MetricsPort = r.GetValue(metricsPort) ?? (int.TryParse(Environment.GetEnvironmentVariable("CMM_METRICS_PORT"), out int p) ? p : null),
                AuditDirectory = r.GetValue(auditDir),
            };
            return await WorkerRunner.RunAsync(options, loggers, identity, signals.Graceful, signals.Immediate).ConfigureAwait(false);
        });
        return command;
    }
}
