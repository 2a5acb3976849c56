using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
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
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var tokenFile = CommonOptions.TokenFile();
        var json = CommonOptions.JsonLogs();
        var urls = new Option<string>("--urls") { Description = "HTTP listen URLs (env CMM_COORDINATOR_URLS)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_COORDINATOR_URLS") ?? CoordinatorOptions.DefaultUrl };
        var siloPort = PortOption("--silo-port", "port silos of the job's control plane talk to each other on", "CMM_SILO_PORT", 11111);
        var gatewayPort = PortOption("--gateway-port", "Orleans gateway port workers connect to (their --gateways)", "CMM_GATEWAY_PORT", 30000);
        var clustering = new Option<ClusteringOptions>("--clustering")
        {
            Description = "how this silo finds the job's other silos: localhost (alone), or a multi-silo control plane on redis=HOST:PORT or azure-table (connection string from CMM_AZURE_CONNECTION_STRING) (env CMM_CLUSTERING)",
            CustomParser = r =>
            {
                try { return ClusteringOptions.Parse(r.Tokens.Single().Value); }
                catch (ArgumentException e) { r.AddError($"--clustering: {e.Message}"); return null; }
            },
            DefaultValueFactory = _ => ClusteringOptions.Parse(Environment.GetEnvironmentVariable("CMM_CLUSTERING") ?? "localhost"),
        };
        var advertise = new Option<System.Net.IPAddress>("--advertise")
        {
            Description = "the address other silos and workers reach this silo at (env CMM_POD_IP; default 127.0.0.1)",
            CustomParser = r =>
            {
                if (System.Net.IPAddress.TryParse(r.Tokens.Single().Value, out var address)) return address;
                r.AddError($"--advertise '{r.Tokens.Single().Value}' is not an IP address");
                return null;
            },
            DefaultValueFactory = _ => System.Net.IPAddress.TryParse(Environment.GetEnvironmentVariable("CMM_POD_IP"), out var a) ? a : System.Net.IPAddress.Loopback,
        };
        var reset = CommonOptions.ResetCoordinatorState();
        var command = new StoppableCommand("coordinator", "Run a job's coordinator: an Orleans silo hosting the job's grains (rendezvous, heartbeats, generations, checkpoint commits) and the HTTP status API, /healthz, /metrics.")
            { spec, set, tokenFile, json, urls, siloPort, gatewayPort, clustering, advertise, reset };
        command.SetAction(async (r, ct) =>
        {
            var training = SpecSource.Load(r.GetValue(spec), r.GetValue(set)!);
            var identity = new LogIdentity(training.Job.Name);
            using var loggers = CliLogging.Create(identity, r.GetValue(json));
            var signals = Signals.ForProcess();
            string token = JobToken.Read(r.GetValue(tokenFile));
            var store = await BlobStores.OpenVerifiedAsync(training.Checkpoint, ct).ConfigureAwait(false);
            var clusteringOptions = r.GetValue(clustering)!;
            if (r.GetValue(reset) && clusteringOptions.IsMultiSilo)
                throw new ArgumentException("--reset-coordinator-state needs the job's control plane down: stop every silo, then start one with --clustering localhost and --reset-coordinator-state");
            // A lone silo owns the job's state on this store; silos of a multi-silo control plane share it by design.
            bool multiSilo = clusteringOptions.IsMultiSilo;
            using var owner = multiSilo
                ? await LocalLaunch.TakeSiloAsync(store, training, ct, CoordinatorLeaseWait).ConfigureAwait(false)
                : await LocalLaunch.TakeAsync(store, training, "cmm coordinator", ct, CoordinatorLeaseWait).ConfigureAwait(false);
            if (r.GetValue(reset)) await CoordinatorStateReset.RunAsync(store, training.Job.Name, ct).ConfigureAwait(false);
            await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions
            {
                Job = SpecJson.ToJobSpec(training),
                Token = token,
                BlobStore = store,
                Urls = r.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                SiloPort = r.GetValue(siloPort),
                GatewayPort = r.GetValue(gatewayPort),
                Clustering = Clustering(clusteringOptions, r.GetValue(advertise)!, training.Job),
            }, b => CliLogging.Configure(b, identity, r.GetValue(json))).ConfigureAwait(false);
            owner.UpdateOwner(LocalLaunch.This("cmm coordinator", host.Addresses[0], silo: multiSilo).ToJson());
            Console.WriteLine($"coordinator for job '{training.Job.Name}' at {string.Join(", ", host.Addresses)}; workers connect to its gateway on port {host.GatewayPort}");
            try { await Task.Delay(Timeout.Infinite, signals.Graceful).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }

    /// <summary>Two lease durations: a coordinator rescheduled after its node died waits out the dead one's claim rather than crash-looping.</summary>
    private static readonly TimeSpan CoordinatorLeaseWait = TimeSpan.FromMinutes(2);

    /// <summary>The provider from the command line (it differs per deployment); the membership timing from the job spec.</summary>
    private static ClusteringOptions Clustering(ClusteringOptions clustering, System.Net.IPAddress advertised, JobSection job)
    {
        clustering.AdvertisedAddress = advertised;
        clustering.ProbeTimeout = TimeSpan.FromSeconds(job.SiloProbeTimeoutSeconds);
        clustering.TableRefreshTimeout = TimeSpan.FromSeconds(job.SiloTableRefreshSeconds);
        return clustering;
    }

    private static Option<int> PortOption(string name, string what, string variable, int fallback) => new(name)
    {
        Description = $"{what} (env {variable}; default {fallback})",
        CustomParser = r =>
        {
            if (int.TryParse(r.Tokens.Single().Value, out int port) && port is > 0 and <= 65535) return port;
            r.AddError($"{name} '{r.Tokens.Single().Value}' is not a port 1-65535");
            return 0;
        },
        DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable(variable), out int port) ? port : fallback,
    };
}
