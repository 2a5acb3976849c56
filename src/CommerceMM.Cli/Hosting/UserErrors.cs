using CommerceMM.Data.Format;
using CommerceMM.Model.Config;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Spec;
using CommerceMM.Worker.Training;

namespace CommerceMM.Cli.Hosting;

/// <summary>Errors caused by input (spec, data, options, storage settings) print as clear lines; anything else keeps its stack trace.</summary>
internal static class UserErrors
{
    public static string? Describe(Exception e) => e switch
    {
        // Every problem of a spec at once, one per line, so one edit fixes them all.
        SpecException { Errors.Count: > 1 } spec => $"invalid job spec ({spec.Errors.Count} problems):\n" + string.Join("\n", spec.Errors.Select(p => $"  {p}")),
        SpecException or ConfigException => $"invalid job spec: {e.Message}",
        DatasetException => $"data set problem: {e.Message}",
        CheckpointException => $"checkpoint problem: {e.Message}",
        // The store's messages name the setting at fault (endpoint, credential, container) and never a secret.
        BlobStoreException => $"checkpoint store problem: {e.Message}",
        ArgumentException or FileNotFoundException or DirectoryNotFoundException => e.Message,
        // A silo that cannot start: its clustering provider is down, or the job's stored state is unreadable (the
        // message names the blob; nothing was reset).
        Coordinator.Hosting.ClusteringUnreachableException or Coordinator.Hosting.PortInUseException or InvalidDataException => $"coordinator cannot start: {e.Message}",
        // Where a cap is set (bench model, eval and dump-step on the CPU), asking for too much ends here rather than in the OOM killer.
        _ when MemoryWatch.IsOutOfMemory(e) =>
            $"out of memory{(HostMemoryLimit.Current() is { } cap ? $" (this process may allocate {cap / (double)(1L << 30):F2} GiB, the memory free as it started)" : "")}: " +
            $"{e.Message.Split('\n', 2)[0]}. Ask for less (a smaller --batch, --rows, --limit or --probe-items), or run it where more memory is free",
        _ => null,
    };
}
