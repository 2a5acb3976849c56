using CommerceMM.Tensors;
using CommerceMM.Worker.Models;

namespace CommerceMM.Worker.Spec;

/// <summary>Checks a spec before anything starts; the first problem is reported with its key.</summary>
public static class SpecValidator
{
    public static TrainingSpec Validate(TrainingSpec s)
    {
        if (string.IsNullOrEmpty(s.Job.Name) || s.Job.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '=')) || s.Job.Name is "." or "..")
            throw new SpecException("job.name", $"'{s.Job.Name}' must be non-empty and use only A-Z a-z 0-9 . _ - = (it names a blob folder)");
        if (s.Job.Workers < 1) throw new SpecException("job.workers", $"must be at least 1, got {s.Job.Workers}");
        if (s.Job.MinWorkers < 1 || s.Job.MinWorkers > s.Job.Workers) throw new SpecException("job.min_workers", $"must be in 1..job.workers ({s.Job.Workers}), got {s.Job.MinWorkers}");
        if (s.Job.MaxSteps < 1) throw new SpecException("job.max_steps", $"must be at least 1, got {s.Job.MaxSteps}");
        if (s.Job.Threads < 0) throw new SpecException("job.threads", $"must be >= 0 (0 = automatic), got {s.Job.Threads}");
        if (s.Job.LogEvery < 1) throw new SpecException("job.log_every", $"must be at least 1, got {s.Job.LogEvery}");
        // Only the spelling here: whether this machine has the device is the worker's question (DeviceSettings.Resolve).
        AsSpecError("job.device", () => DeviceSettings.ParseDevice(s.Job.Device ?? "", "job.device"));
        AsSpecError("model.precision", () => DeviceSettings.ParsePrecision(s.Model.Precision ?? "", "model.precision"));

        if (s.Data.BatchSize < 1) throw new SpecException("data.batch_size", $"must be at least 1, got {s.Data.BatchSize}");
        if (string.IsNullOrWhiteSpace(s.Data.Dir)) throw new SpecException("data.dir", "is required (build one with: cmm data build fashion --out data/fashion)");
        if (s.Data.Prefetch < 1) throw new SpecException("data.prefetch", $"must be at least 1, got {s.Data.Prefetch}");
        if (s.Data.DecodeWorkers < 1) throw new SpecException("data.decode_workers", $"must be at least 1, got {s.Data.DecodeWorkers}");

        if (!(s.Optimizer.Lr > 0)) throw new SpecException("optimizer.lr", $"must be > 0, got {s.Optimizer.Lr}");
        if (s.Optimizer.MinLr < 0 || s.Optimizer.MinLr > s.Optimizer.Lr) throw new SpecException("optimizer.min_lr", $"must be in [0, optimizer.lr], got {s.Optimizer.MinLr}");
        if (s.Optimizer.WarmupSteps < 0 || s.Optimizer.WarmupSteps > s.Job.MaxSteps) throw new SpecException("optimizer.warmup_steps", $"must be in 0..job.max_steps, got {s.Optimizer.WarmupSteps}");
        if (s.Optimizer.WeightDecay < 0) throw new SpecException("optimizer.weight_decay", $"must be >= 0, got {s.Optimizer.WeightDecay}");
        if (!(s.Optimizer.MaxGradNorm > 0)) throw new SpecException("optimizer.max_grad_norm", $"must be > 0, got {s.Optimizer.MaxGradNorm}");

        if (!s.Checkpoint.Store.StartsWith("file:", StringComparison.Ordinal) && s.Checkpoint.Store != "azure:")
            throw new SpecException("checkpoint.store", $"'{s.Checkpoint.Store}' is not file:DIR or azure: (Azure credentials come from CMM_AZURE_CONNECTION_STRING)");
        if (s.Checkpoint.Every < 0) throw new SpecException("checkpoint.every", $"must be >= 0 (0 = only on order), got {s.Checkpoint.Every}");
        if (s.Checkpoint.KeepLast < 1) throw new SpecException("checkpoint.keep_last", $"must be at least 1, got {s.Checkpoint.KeepLast}");
        if (s.Checkpoint.KeepEvery < 0) throw new SpecException("checkpoint.keep_every", $"must be >= 0, got {s.Checkpoint.KeepEvery}");
        if (!(s.Checkpoint.GraceSeconds > 0)) throw new SpecException("checkpoint.grace_seconds", $"must be > 0, got {s.Checkpoint.GraceSeconds}");

        ModelKinds.For(s.Model).Validate(s.Model);
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
