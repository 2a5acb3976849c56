using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Observability.Logging;
using CommerceMM.Worker.Spec;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm coordinator`: the control plane of one job, off the training nodes; workers rendezvous through its API.</summary>
internal static class CoordinatorCommand
{
    public static Command Create()
    {
        var spec = new Argument<string?>("spec") { Description = "job spec YAML (default: the embedded fashion-tiny job)", DefaultValueFactory = _ => null };
        var set = CommonOptions.Set();
        var tokenFile = CommonOptions.TokenFile();
        var json = CommonOptions.JsonLogs();
        var urls = new Option<string>("--urls") { Description = "HTTP listen URLs (env CMM_COORDINATOR_URLS)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_COORDINATOR_URLS") ?? CoordinatorOptions.DefaultUrl };
        var command = new Command("coordinator", "Run a job's coordinator: rendezvous, heartbeats, generations, checkpoint commits, /healthz, /metrics, status API.")
            { spec, set, tokenFile, json, urls };
        command.SetAction(async (r, ct) =>
        {
            var training = SpecSource.Load(r.GetValue(spec), r.GetValue(set)!);
            var identity = new LogIdentity(training.Job.Name);
            using var loggers = CliLogging.Create(identity, r.GetValue(json));
            using var signals = new Signals();
            await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions
            {
                Job = SpecJson.ToJobSpec(training),
                Token = JobToken.Read(r.GetValue(tokenFile)),
                BlobStore = await BlobStores.OpenVerifiedAsync(training.Checkpoint, ct).ConfigureAwait(false),
                Urls = r.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            }, b => CliLogging.Configure(b, identity, r.GetValue(json))).ConfigureAwait(false);
            Console.WriteLine($"coordinator for job '{training.Job.Name}' at {string.Join(", ", host.Addresses)}; workers rendezvous through it");
            try { await Task.Delay(Timeout.Infinite, signals.Graceful).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }
}
