using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Observability.Logging;
using CommerceMM.Worker.Spec;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm coordinator`: the control plane of one job, off the training nodes; hosts the rendezvous store.</summary>
internal static class CoordinatorCommand
{
    public static Command Create()
    {
        var spec = new Argument<string?>("spec") { Description = "job spec YAML (default: the embedded fashion-tiny job)", DefaultValueFactory = _ => null };
        var set = CommonOptions.Set();
        var tokenFile = CommonOptions.TokenFile();
        var json = CommonOptions.JsonLogs();
        var urls = new Option<string>("--urls") { Description = "HTTP listen URLs (env CMM_COORDINATOR_URLS)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_COORDINATOR_URLS") ?? CoordinatorOptions.DefaultUrl };
        var storePort = new Option<int>("--store-port") { Description = "c10d TCPStore port (env CMM_STORE_PORT)", DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("CMM_STORE_PORT"), out int p) ? p : CoordinatorOptions.DefaultStorePort };
        var storeHost = new Option<string?>("--store-host") { Description = "store address workers dial, e.g. the coordinator Service name (env CMM_STORE_HOST)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_STORE_HOST") };
        var command = new Command("coordinator", "Run a job's coordinator: rendezvous, heartbeats, generations, checkpoint commits, /healthz, /metrics, status API.")
            { spec, set, tokenFile, json, urls, storePort, storeHost };
        command.SetAction(async (r, _) =>
        {
            var training = SpecSource.Load(r.GetValue(spec), r.GetValue(set)!);
            var identity = new LogIdentity(training.Job.Name);
            using var loggers = CliLogging.Create(identity, r.GetValue(json));
            using var signals = new Signals();
            await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions
            {
                Job = SpecJson.ToJobSpec(training),
                Token = JobToken.Read(r.GetValue(tokenFile)),
                BlobStore = BlobStores.Open(training.Checkpoint),
                Urls = r.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                StorePort = r.GetValue(storePort),
                StoreAdvertisedHost = r.GetValue(storeHost),
            }, b => CliLogging.Configure(b, identity, r.GetValue(json))).ConfigureAwait(false);
            Console.WriteLine($"coordinator for job '{training.Job.Name}' at {string.Join(", ", host.Addresses)}; rendezvous store on port {host.StorePort}");
            try { await Task.Delay(Timeout.Infinite, signals.Graceful).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }
}
