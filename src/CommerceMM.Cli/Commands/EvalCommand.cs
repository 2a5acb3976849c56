using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Hosting;
using CommerceMM.Collectives;
using CommerceMM.Data.Format;
using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Evaluation;
using CommerceMM.Model.NN;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.DataSets;
using CommerceMM.Worker.Models;
using CommerceMM.Worker.Spec;
using CommerceMM.Worker.Training;
using CommerceMM.Scale;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Evaluation;
using CommerceMM.Tensors;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// `cmm eval`: the MODEL.md §7 tables for a job's checkpoint: restore the newest verified (or a given)
/// checkpoint from the spec's store, embed the data set's held-out streams, print one table per
/// allocation. The work is the model library's (CommerceMM.Model.Evaluation); this only wires it up.
/// </summary>
internal static class EvalCommand
{
    private const string Latest = "latest", Trained = "trained", Ablation = "ablation";

    public static Command Create()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var checkpoint = CheckpointsCommand.Step("checkpoint step, or 'latest' for the newest verified one", name: "--checkpoint");
        var allocation = new Option<string>("--allocation") { Description = "'all' (every allocation of the spec, full depth first) or one, e.g. t2-v2-f1", DefaultValueFactory = _ => AllocationNames.All };
        var limit = new Option<int?>("--limit") { Description = "gallery size: the first N held-out products by id (default: all)" };
        var probeItems = new Option<int>("--probe-items") { Description = "training products embedded to fit the linear probe", DefaultValueFactory = _ => EvalStreamOptions.DefaultProbeTrainItems };
        var output = new Option<DirectoryInfo?>("--out") { Description = "also write eval.json into this folder" };
        var modalities = new Option<string>("--modalities")
        {
            Description = $"SCALE: '{Trained}' (the model's own modalities), '{Ablation}' (image+text, then +table, +video, +audio at inference) or rows like image+text;image+text+table",
            DefaultValueFactory = _ => Trained,
        };
        var command = new Command("eval", "Evaluate a job's checkpoint. CommerceMM: Recall@1/5/10 (query→product, photo→product, image↔text), linear-probe categorisation, FLOPs and latency, one table per allocation. SCALE: mAP and Precision@1/5/10 by the sum of modality features, categorisation, one row per modality set.")
            { spec, set, checkpoint, allocation, limit, probeItems, output, modalities };
        command.SetAction(async (r, ct) =>
        {
            CommonOptions.RequireAtLeast(1, ("--limit", r.GetValue(limit)), ("--probe-items", r.GetValue(probeItems)));
            var training = SpecSource.Load(r.GetValue(spec), r.GetValue(set)!);
            bool scale = ModelKinds.For(training.Model).Name == ModelKinds.Scale;
            // An option of the other model kind would be ignored, and the user left to wonder why the tables ignore it.
            if (r.GetResult(scale ? allocation : modalities) is { Implicit: false })
                throw new ArgumentException(scale
                    ? $"--allocation is for CommerceMM models; job '{training.Job.Name}' trains a SCALE model (model.kind: scale), evaluated by modality set: --modalities"
                    : $"--modalities is for SCALE models; job '{training.Job.Name}' trains a CommerceMM model (model.kind: commercemm), evaluated by allocation: --allocation");
            IReadOnlyList<ModalitySet>? rows = scale ? Rows(r.GetValue(modalities)!) : null; // parsed before the model is built
            if (r.GetValue(output) is { } folder) OutputFolder.EnsureWritable(folder.FullName, "--out");
            var device = Prepare(training); // before the spec is printed: a refusal should be the one thing on screen
            if (device.Device.type != TorchSharp.DeviceType.CUDA) HostMemoryLimit.CapAtAvailable();
            Console.WriteLine("resolved job spec:");
            Console.WriteLine(SpecLoader.ToYaml(training));
            string json = scale
                ? await RunScaleAsync(training, device, r.GetValue(checkpoint)!, rows, r.GetValue(modalities) == Ablation, r.GetValue(limit), r.GetValue(probeItems), ct).ConfigureAwait(false)
                : EvalTable.ToJson(await RunAsync(training, device, r.GetValue(checkpoint)!, r.GetValue(allocation)!, r.GetValue(limit), r.GetValue(probeItems), ct).ConfigureAwait(false));
            if (r.GetValue(output) is { } dir)
            {
                string file = Path.Combine(dir.FullName, "eval.json");
                await File.WriteAllTextAsync(file, json, ct).ConfigureAwait(false);
                Console.WriteLine($"wrote {file}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Checks the data set and sets threads; returns where the model runs (job.device, model.precision), checked against this machine.</summary>
    private static DeviceSettings Prepare(TrainingSpec spec)
    {
        if (!DataFolder.IsRemote(spec.Data) && !File.Exists(Path.Combine(spec.Data.Dir, DatasetManifest.FileName)))
            throw new SpecException("data.dir", $"'{spec.Data.Dir}' holds no {DatasetManifest.FileName}; evaluation needs the data set the job trained on");
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            Console.Error.WriteLine("warning: OMP_WAIT_POLICY is not set; with 2 threads on 2 cores OpenMP spinning can halve speed (set OMP_WAIT_POLICY=PASSIVE)");
        TorchRuntime.NumThreads = spec.Job.Threads > 0 ? spec.Job.Threads : Environment.ProcessorCount;
        return MachineDevices.Resolve(spec.Job.Device, spec.Model.Precision);
    }

    /// <summary>The rows --modalities names: null for 'trained' and 'ablation' (which need the model's configuration).</summary>
    private static IReadOnlyList<ModalitySet>? Rows(string modalities)
    {
        if (modalities is Trained or Ablation) return null;
        try
        {
            var rows = modalities.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ModalitySet.Parse).ToList();
            return rows.Count > 0 ? rows : throw new ArgumentException($"no modality set in '{modalities}'");
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--modalities: {e.Message}; give '{Trained}', '{Ablation}' or rows like image+text;image+text+table", e);
        }
    }

    /// <summary>SCALE (MODEL.md §8): retrieval by the sum of modality features (mAP, P@1/5/10) and linear-probe categorisation, one row per modality set.</summary>
    /// <param name="named">the rows --modalities names; null for the model's own modalities, or with <paramref name="ablation"/></param>
    private static async Task<string> RunScaleAsync(TrainingSpec spec, DeviceSettings device, string checkpoint, IReadOnlyList<ModalitySet>? named, bool ablation,
                                                    int? limit, int probeItems, CancellationToken ct)
    {
        var config = ScaleConfigFactory.ForData(spec);
        using var model = new ScaleModel(config, spec.Job.Seed, device);
        long step = await RestoreAsync(spec, checkpoint, model, ct).ConfigureAwait(false);
        Console.WriteLine($"evaluating job '{spec.Job.Name}' (SCALE, {string.Join("+", config.Modalities.Select(m => m.Name()))}) at checkpoint step {step}");
        IReadOnlyList<ModalitySet>? rows = ablation ? ModalitySet.PaperAblation(config) : named;
        var options = new ScaleEvalOptions { Rows = rows, EvalLimit = limit, ProbeTrainLimit = probeItems, Probe = new ProbeOptions { Seed = spec.Job.Seed } };
        var report = ScaleEvaluator.Run(model, DataFolder.Of(spec.Data), options, row => Console.WriteLine($"row {row.Label} done in {row.Seconds:0.0} s"));
        Console.WriteLine();
        Console.Write(ScaleEvalTable.Format(report));
        return ScaleEvalTable.ToJson(report);
    }

    private static async Task<EvalReport> RunAsync(TrainingSpec spec, DeviceSettings device, string checkpoint, string allocation, int? limit, int probeItems, CancellationToken ct)
    {
        var config = ModelConfigFactory.ForData(spec);
        var allocations = AllocationNames.Parse(allocation, config);

        using var model = new CommerceMMModel(config, spec.Job.Seed, device);
        long step = await RestoreAsync(spec, checkpoint, model, ct).ConfigureAwait(false);
        Console.WriteLine($"evaluating job '{spec.Job.Name}' at checkpoint step {step}");

        var streams = new EvalStreamOptions { DatasetDirectory = DataFolder.Of(spec.Data), TextLength = config.Text.MaxLength, GalleryLimit = limit, ProbeTrainItems = probeItems, Seed = spec.Job.Seed };
        using var set = await EvalStreams.ReadAsync(streams, ct).ConfigureAwait(false);
        var options = new EvaluationOptions { Allocations = allocations, Probe = new ProbeOptions { Seed = spec.Job.Seed } };
        var report = Evaluator.Evaluate(model, set, options, a => Console.WriteLine($"allocation {a.Allocation} done in {a.Seconds:0.0} s"));
        Console.WriteLine();
        Console.Write(EvalTable.Format(report));
        return report;
    }

    /// <summary>
    /// Loads the chosen checkpoint's weights into <paramref name="model"/> on whatever device it lives (read on the
    /// host, copied in); refuses (naming why) when there is none to load.
    /// </summary>
    private static async Task<long> RestoreAsync(TrainingSpec spec, string checkpoint, nn.Module model, CancellationToken ct)
    {
        string job = spec.Job.Name, hash = TrainingSession.ConfigHashFor(spec);
        IBlobStore store = await BlobStores.OpenVerifiedAsync(spec.Checkpoint, ct).ConfigureAwait(false);
        CheckpointManifest manifest;
        byte[] weightBytes;
        if (checkpoint == Latest)
        {
            var selection = await CheckpointCatalog.FindNewestVerifiedAsync(store, job, hash, (_, path) => path == CheckpointFiles.Model, ct).ConfigureAwait(false);
            foreach (var s in selection.Skipped) Console.Error.WriteLine($"skipped checkpoint: {s.Reason}");
            manifest = selection.Checkpoint
                ?? throw new CheckpointException($"job '{job}' has no verified checkpoint in {spec.Checkpoint.Store}; train it first (cmm train) or point checkpoint.store at its store");
            weightBytes = selection.File(CheckpointFiles.Model);
        }
        else
        {
            long wanted = long.Parse(checkpoint, CultureInfo.InvariantCulture);
            manifest = await CheckpointCatalog.ReadManifestAsync(store, job, wanted, ct).ConfigureAwait(false)
                ?? throw new CheckpointException($"job '{job}' has no committed checkpoint at step {wanted} in {spec.Checkpoint.Store}; `cmm checkpoints list` shows the steps");
            if (manifest.ConfigHash != hash)
                throw new CheckpointException($"checkpoint step-{wanted} was written with config hash {manifest.ConfigHash}, but the spec's model has {hash}: the configuration is incompatible");
            var verification = await CheckpointVerifier.VerifyAndKeepAsync(store, manifest, path => path == CheckpointFiles.Model, cancellationToken: ct).ConfigureAwait(false);
            if (verification.Problem is { } problem)
                throw new CheckpointException($"checkpoint step-{wanted} does not verify: {problem}");
            weightBytes = verification.File(manifest, CheckpointFiles.Model);
        }

        TrainedOnCheck.Tokenizer(await TrainedOnCheck.ReadRankZeroAsync(store, manifest, ct).ConfigureAwait(false), manifest.Step, spec.Data.Dir, DatasetManifest.Read(DataFolder.Of(spec.Data)), job, CheckpointUse.Evaluate);
        using var weights = SafeTensors.Read(new MemoryStream(weightBytes), $"checkpoint step-{manifest.Step}/{CheckpointFiles.Model}");
        model.LoadStateDict(weights.ByName);
        return manifest.Step;
    }
}
