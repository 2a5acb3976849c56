using CommerceMM.Storage.Blobs;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Hosting;

/// <summary>
/// The checkpoint store and job a spec names (checkpoint.store, checkpoint.container, job.name), opened for the commands
/// that read it: the same spec, --set and CMM_ variables as `cmm train`, so `cmm checkpoints list` with no arguments
/// reads what `cmm train` wrote.
/// </summary>
internal sealed record JobStore(TrainingSpec Spec, IBlobStore Store, string Where)
{
    public string Job => Spec.Job.Name;

    /// <exception cref="ArgumentException">A file store whose folder does not exist (opening it would create it).</exception>
    /// <exception cref="BlobStoreException">Azure refused or could not be reached (the message names the setting).</exception>
    public static async Task<JobStore> OpenAsync(string? specFile, IEnumerable<string> overrides, CancellationToken cancellationToken)
    {
        var spec = SpecSource.Load(specFile, overrides);
        if (spec.Checkpoint.Store.StartsWith(BlobStores.FileScheme, StringComparison.Ordinal))
        {
            string root = Path.GetFullPath(spec.Checkpoint.Store[BlobStores.FileScheme.Length..]);
            if (!Directory.Exists(root))
                throw new ArgumentException($"checkpoint.store '{spec.Checkpoint.Store}': the folder {root} does not exist, so nothing was trained into it. " +
                                            "Run from the folder `cmm train` ran in, or point at the job's store (--set checkpoint.store=file:DIR, or azure: with CMM_AZURE_CONNECTION_STRING)");
        }
        var store = await BlobStores.OpenVerifiedAsync(spec.Checkpoint, cancellationToken).ConfigureAwait(false);
        return new JobStore(spec, store, BlobStores.Describe(spec.Checkpoint, store));
    }

    /// <summary>Jobs with checkpoints in this store (first segments of JOB/checkpoints/…), for "no such job" messages; at most the first 10,000 keys are looked at.</summary>
    public async Task<IReadOnlyList<string>> OtherJobsAsync(CancellationToken cancellationToken)
    {
        var jobs = new SortedSet<string>(StringComparer.Ordinal);
        int seen = 0;
        await foreach (var blob in Store.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            string[] parts = blob.Key.Split('/');
            if (parts.Length > 2 && parts[1] == "checkpoints" && parts[0] != Job) jobs.Add(parts[0]);
            if (++seen >= 10_000) break;
        }
        return jobs.ToList();
    }
}
