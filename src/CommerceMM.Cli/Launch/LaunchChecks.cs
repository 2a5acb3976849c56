using CommerceMM.Data.Format;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.DataSets;
using CommerceMM.Worker.Models;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// What `cmm train` checks, once the data set is there, before it starts a coordinator: what every worker would otherwise
/// find for itself after rendezvous, each exiting 2, with the job's generation bumped for nothing. Here each is one message.
/// </summary>
internal static class LaunchChecks
{
    /// <summary>The spec's checkpoint store, opened, once the job is known to be able to start from it.</summary>
    /// <exception cref="SpecException">The model does not fit the data set (image size, modalities).</exception>
    /// <exception cref="DatasetException">A shard or index of the data set is missing or has the wrong size.</exception>
    /// <exception cref="CheckpointException">The job's last checkpoint came from a model of another shape.</exception>
    public static async Task<IBlobStore> RunAsync(TrainingSpec spec, CancellationToken cancellationToken)
    {
        // Sizes only (cheap); every worker still checks each shard's SHA-256 as it opens it (a remote data set's as it fetches it).
        string folder = DataFolder.Of(spec.Data);
        var data = DatasetManifest.Read(folder);
        if (!DataFolder.IsRemote(spec.Data)) ShardReader.CheckSizes(folder, data);
        string configHash = ModelKinds.For(spec.Model).ConfigHash(spec);
        var store = await BlobStores.OpenVerifiedAsync(spec.Checkpoint, cancellationToken).ConfigureAwait(false);
        await EnsureResumableAsync(spec, data, store, configHash, cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>
    /// The job's last committed checkpoint, if any, was written by a model of the spec's shape, and trained on this data set
    /// (the workers would refuse it).
    /// </summary>
    private static async Task EnsureResumableAsync(TrainingSpec spec, DatasetManifest data, IBlobStore store, string configHash, CancellationToken cancellationToken)
    {
        if (await CheckpointCommitter.ReadLatestAsync(store, spec.Job.Name, cancellationToken).ConfigureAwait(false) is not { } latest)
        {
            if (spec.Job.InitFrom is { Length: > 0 }) await EnsureInitialWeightsAsync(spec, data, store, configHash, cancellationToken).ConfigureAwait(false);
            return;
        }
        var manifest = await CheckpointCatalog.ReadManifestAsync(store, spec.Job.Name, latest.Pointer.Step, cancellationToken).ConfigureAwait(false);
        if (manifest is null) return;
        if (manifest.ConfigHash == configHash)
        {
            if (await RankZeroOrNullAsync(store, manifest, cancellationToken).ConfigureAwait(false) is not { } state) return;
            TrainedOnCheck.Tokenizer(state, manifest.Step, spec.Data.Dir, data, spec.Job.Name);
            TrainedOnCheck.Streams(state, manifest.Step, spec.Data.Dir, data, spec.Job.Name);
            return;
        }
        throw new CheckpointException($"job '{spec.Job.Name}' has checkpoints up to step {manifest.Step} in {spec.Checkpoint.Store} from a model of another shape " +
                                      $"(config hash {manifest.ConfigHash}; this spec's is {configHash}): model.kind, model.preset, model.prototypes or model.modalities, " +
                                      "or the data set's vocabulary or image size, differ from what trained it. Resume with the spec it was trained with, " +
                                      "or train a new job: --set job.name=NEW");
    }

    /// <summary>The job that job.init_from names has a checkpoint this model and data set can start from.</summary>
    private static async Task EnsureInitialWeightsAsync(TrainingSpec spec, DatasetManifest data, IBlobStore store, string configHash, CancellationToken cancellationToken)
    {
        string from = spec.Job.InitFrom;
        var latest = await CheckpointCommitter.ReadLatestAsync(store, from, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointException($"job.init_from: job '{from}' has no committed checkpoint in {spec.Checkpoint.Store} " +
                                             $"(`cmm checkpoints list --set job.name={from}` lists a job's checkpoints); name a job of this store that has one");
        var manifest = await CheckpointCatalog.ReadManifestAsync(store, from, latest.Pointer.Step, cancellationToken).ConfigureAwait(false);
        if (manifest is null) return;   // the workers pass over a broken checkpoint, and say so
        if (manifest.ConfigHash != configHash)
            throw new CheckpointException($"job.init_from: job '{from}''s checkpoint step-{manifest.Step} is of a model of another shape (config hash {manifest.ConfigHash}; " +
                                          $"this spec's is {configHash}): model.kind, model.preset, model.prototypes, model.modalities and the data set's vocabulary " +
                                          "and image size must be those it trained with");
        if (await RankZeroOrNullAsync(store, manifest, cancellationToken).ConfigureAwait(false) is { } state)
            TrainedOnCheck.Tokenizer(state, manifest.Step, spec.Data.Dir, data, from, CheckpointUse.InitFrom);
    }

    /// <summary>Rank 0's state record, or null when it cannot be read: the workers pass over a broken checkpoint themselves, and say so.</summary>
    private static async Task<RankState?> RankZeroOrNullAsync(IBlobStore store, CheckpointManifest manifest, CancellationToken cancellationToken)
    {
        try { return await TrainedOnCheck.ReadRankZeroAsync(store, manifest, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is CheckpointException or InvalidDataException) { return null; }
    }
}
