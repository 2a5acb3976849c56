using CommerceMM.Storage.Azure;
using CommerceMM.Tensors;
using CommerceMM.Worker.Models;

namespace CommerceMM.Worker.Spec;

/// <summary>Checks a spec before anything starts; every problem is reported at once, each with its key.</summary>
public static class SpecValidator
{
    /// <exception cref="SpecException">Every problem found.</exception>
    public static TrainingSpec Validate(TrainingSpec s) => Validate(s, new SpecErrors());

    /// <summary>Adds this spec's problems to <paramref name="errors"/> (which may already hold the loader's) and throws them all.</summary>
    internal static TrainingSpec Validate(TrainingSpec s, SpecErrors errors)
    {
        void Require(bool ok, string key, string message)
        {
            // A key whose value could not even be read is reported once, as that (its default stands in here).
            if (!ok && !errors.Has(key)) errors.Add(key, message);
        }

        static bool IsJobName(string? name) =>
            !(string.IsNullOrEmpty(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '=')) || name is "." or "..");
        Require(IsJobName(s.Job.Name), "job.name", $"'{s.Job.Name}' must be non-empty and use only A-Z a-z 0-9 . _ - = (it names a blob folder)");
        Require(string.IsNullOrEmpty(s.Job.InitFrom) || IsJobName(s.Job.InitFrom) && s.Job.InitFrom != s.Job.Name, "job.init_from",
            s.Job.InitFrom == s.Job.Name
                ? $"'{s.Job.InitFrom}' is this job itself, which resumes from its own checkpoints anyway; name another job, or leave it empty"
                : $"'{s.Job.InitFrom}' is not a job name (A-Z a-z 0-9 . _ - =)");
        // A check against another key runs only when that key is valid and readable: one mistake, one line.
        Require(s.Job.Workers >= 1, "job.workers", $"must be at least 1, got {s.Job.Workers}");
        Require(s.Job.MinWorkers >= 1 && (s.Job.MinWorkers <= s.Job.Workers || s.Job.Workers < 1 || errors.Has("job.workers")), "job.min_workers", $"must be in 1..job.workers ({s.Job.Workers}), got {s.Job.MinWorkers}");
        Require(s.Job.MaxSteps >= 1, "job.max_steps", $"must be at least 1, got {s.Job.MaxSteps}");
        Require(s.Job.MaxRestarts >= 0, "job.max_restarts", $"must be >= 0 (0: the first lost worker fails the job), got {s.Job.MaxRestarts}");
        Require(s.Job.Threads >= 0, "job.threads", $"must be >= 0 (0 = automatic), got {s.Job.Threads}");
        Require(s.Job.LogEvery >= 1, "job.log_every", $"must be at least 1, got {s.Job.LogEvery}");
        Require(s.Job.SiloProbeTimeoutSeconds is > 0 and <= 60, "job.silo_probe_timeout_seconds", $"must be in (0, 60], got {s.Job.SiloProbeTimeoutSeconds}");
        Require(s.Job.SiloTableRefreshSeconds is > 0 and <= 600, "job.silo_table_refresh_seconds", $"must be in (0, 600], got {s.Job.SiloTableRefreshSeconds}");
        // Only the spelling here: whether this machine has the device is the worker's question (MachineDevices.Resolve).
        errors.Check(() => AsSpecError("job.device", () => DeviceSettings.ParseDevice(s.Job.Device ?? "", "job.device")));
        errors.Check(() => AsSpecError("model.precision", () => DeviceSettings.ParsePrecision(s.Model.Precision ?? "", "model.precision")));

        Require(s.Data.BatchSize >= 1, "data.batch_size", $"must be at least 1, got {s.Data.BatchSize}");
        Require(!string.IsNullOrWhiteSpace(s.Data.Dir), "data.dir", "is required (build one with: cmm data build fashion --out data/fashion)");
        Require(s.Data.Prefetch >= 1, "data.prefetch", $"must be at least 1, got {s.Data.Prefetch}");
        Require(s.Data.DecodeWorkers >= 1, "data.decode_workers", $"must be at least 1, got {s.Data.DecodeWorkers}");

        Require(s.Optimizer.Lr > 0, "optimizer.lr", $"must be > 0, got {s.Optimizer.Lr}");
        Require(s.Optimizer.MinLr >= 0 && (s.Optimizer.MinLr <= s.Optimizer.Lr || !(s.Optimizer.Lr > 0) || errors.Has("optimizer.lr")), "optimizer.min_lr", $"must be in [0, optimizer.lr], got {s.Optimizer.MinLr}");
        Require(s.Optimizer.WarmupSteps >= 0 && (s.Optimizer.WarmupSteps <= s.Job.MaxSteps || s.Job.MaxSteps < 1 || errors.Has("job.max_steps")), "optimizer.warmup_steps",
            $"must be in 0..job.max_steps ({s.Job.MaxSteps}), got {s.Optimizer.WarmupSteps}; for a short run lower it too, e.g. --set optimizer.warmup_steps={Math.Max(0, s.Job.MaxSteps / 10)}");
        Require(s.Optimizer.WeightDecay >= 0, "optimizer.weight_decay", $"must be >= 0, got {s.Optimizer.WeightDecay}");
        Require(s.Optimizer.MaxGradNorm > 0, "optimizer.max_grad_norm", $"must be > 0, got {s.Optimizer.MaxGradNorm}");

        bool azure = s.Checkpoint.Store == BlobStores.AzureScheme;
        Require(s.Checkpoint.Store.StartsWith(BlobStores.FileScheme, StringComparison.Ordinal) || azure,
            "checkpoint.store", $"'{s.Checkpoint.Store}' is not file:DIR or azure: (Azure credentials come from {BlobStores.AzureConnectionVariable} or the other CMM_AZURE_* settings)");
        // Only Azure has rules for container names; the file store ignores the key.
        Require(!azure || AzureBlobStoreOptions.IsValidContainerName(s.Checkpoint.Container), "checkpoint.container",
            $"'{s.Checkpoint.Container}' is not an Azure container name (3-63 characters: lower-case letters, digits, single hyphens, starting and ending with a letter or digit)");
        Require(s.Checkpoint.Every >= 0, "checkpoint.every", $"must be >= 0 (0 = only on order), got {s.Checkpoint.Every}");
        Require(s.Checkpoint.KeepLast >= 1, "checkpoint.keep_last", $"must be at least 1, got {s.Checkpoint.KeepLast}");
        Require(s.Checkpoint.KeepEvery >= 0, "checkpoint.keep_every", $"must be >= 0, got {s.Checkpoint.KeepEvery}");
        Require(s.Checkpoint.GraceSeconds > 0, "checkpoint.grace_seconds", $"must be > 0, got {s.Checkpoint.GraceSeconds}");

        errors.Check(() => ModelKinds.For(s.Model).Validate(s.Model));
        errors.ThrowIfAny();
        return s;
    }

    /// <summary>Runs a parse whose <see cref="ArgumentException"/> message starts with the key, as the spec error of that key.</summary>
    internal static void AsSpecError(string key, Action parse)
    {
        try
        {
            parse();
        }
        catch (ArgumentException e)
        {
            string prefix = key + ": ";
            throw new SpecException(key, e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message, e);
        }
    }
}
