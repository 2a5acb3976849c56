using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
using CommerceMM.Collectives;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Observability.Logging;
using CommerceMM.Worker.DataSets;
using CommerceMM.Worker.Models;
using CommerceMM.Worker.Spec;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm train`: run a job on this machine with N worker processes.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var spec = PathArguments.JobSpec("job spec YAML (default: the embedded fashion-tiny job, cluster/jobs/fashion-tiny.yaml)");
        var workers = new Option<int?>("--workers") { Description = "worker processes (overrides job.workers)" };
        var set = CommonOptions.Set();
        var json = CommonOptions.JsonLogs();
        var metrics = new Option<bool>("--metrics") { Description = "workers serve /metrics on free ports, and a Prometheus file_sd targets file lists the coordinator and every worker (see cluster/prometheus/prometheus.yml)" };
        var targets = new Option<string?>("--prometheus-targets") { Description = "with --metrics: the targets file to write (default: <checkpoint folder>/prometheus-targets/<job>.json)" };
        var reset = CommonOptions.ResetCoordinatorState();
        var logLevel = new Option<LogLevel>("--log-level") { Description = "coordinator log level (debug also logs each heartbeat's step and losses)", DefaultValueFactory = _ => LogLevel.Information };
        var command = new StoppableCommand("train", "Train locally: a coordinator plus N worker processes. Resumes from the job's last checkpoint; Ctrl+C checkpoints and stops.")
            { spec, workers, set, json, metrics, targets, logLevel, reset };
        command.SetAction(async (r, ct) =>
        {
            if (r.GetValue(targets) is not null && !r.GetValue(metrics)) throw new ArgumentException("--prometheus-targets needs --metrics");
            var overrides = r.GetValue(set)!.ToList();
            if (r.GetValue(workers) is { } n) overrides.Add($"job.workers={n}");
            var training = SpecSource.Load(r.GetValue(spec), overrides);
            // Every worker runs on this machine: a device or precision it lacks is refused before anything else.
            MachineDevices.Resolve(training.Job.Device, training.Model.Precision);
            await EnsureDataAsync(training, ct).ConfigureAwait(false);
            var store = await LaunchChecks.RunAsync(training, ct).ConfigureAwait(false);
            if (ModelKinds.For(training.Model).Name == ModelKinds.CommerceMM
                && ModelConfigFactory.OversizedImagesWarning(training, ModelConfigFactory.ForData(training)) is { } warning)
                Console.Error.WriteLine($"cmm: warning: {warning}");
            Console.WriteLine("resolved job spec:");
            Console.WriteLine(SpecLoader.ToYaml(training));
            var identity = new LogIdentity(training.Job.Name);
            var signals = Signals.ForProcess();
            var level = r.GetValue(logLevel);
            return await LocalCluster.RunAsync(training, store, b => { CliLogging.Configure(b, identity, r.GetValue(json)); b.SetMinimumLevel(level); }, signals,
                new LocalMetricsOptions(r.GetValue(metrics), r.GetValue(targets)), r.GetValue(reset)).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The shipped jobs' data sets are built on first use; any other missing data set is an error naming data.dir.</summary>
    private static async Task EnsureDataAsync(TrainingSpec spec, CancellationToken cancellationToken)
    {
        // A data set in blob storage is fetched as it is read (LaunchChecks opens it first).
        if (DataFolder.IsRemote(spec.Data) || File.Exists(Path.Combine(spec.Data.Dir, DatasetManifest.FileName))) return;
        bool scale = ModelKinds.For(spec.Model).Name == ModelKinds.Scale;
        string shipped = scale ? DefaultScaleDataDir : new DataSection().Dir, command = scale ? $"cmm data build fashion --modalities {string.Join(',', Modality.Known)}" : "cmm data build fashion";
        if (Path.GetFullPath(spec.Data.Dir) != Path.GetFullPath(shipped))
            throw new SpecException("data.dir", $"'{spec.Data.Dir}' holds no {DatasetManifest.FileName}; build it with: {command} --out {spec.Data.Dir}" +
                                                (scale ? "" : $" (from Fashion-MNIST), or from your own products: cmm data build catalog FILE --out {spec.Data.Dir}"));
        Console.WriteLine($"building the job's data set into {spec.Data.Dir} (once; `{command} --out {spec.Data.Dir}` does the same)");
        var catalog = new FashionDatasetOptions { OutputDirectory = spec.Data.Dir };
        if (scale) await DataCommand.BuildScaleAsync(new ScaleDatasetOptions { Catalog = catalog }, cancellationToken).ConfigureAwait(false);
        else await DataCommand.BuildFashionAsync(catalog, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where cluster/jobs/fashion-scale-tiny.yaml keeps its products.</summary>
    private const string DefaultScaleDataDir = "data/fashion-scale";
}
