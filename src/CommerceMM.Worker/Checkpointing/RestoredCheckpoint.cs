using CommerceMM.Data.Loading;
using CommerceMM.Worker.Models;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>
/// A verified checkpoint read back into host memory for one rank. Any rank's state record works for
/// the data positions (ranks advance in lock-step), so a different world size restores from rank 0's.
/// </summary>
public sealed class RestoredCheckpoint
{
    private readonly byte[] _model;
    /// <summary>Null when only the weights were loaded (<see cref="LoadWeightsAsync"/>).</summary>
    private readonly byte[]? _optimizer;

    private RestoredCheckpoint(CheckpointManifest manifest, byte[] model, byte[]? optimizer, RankState state, long skipSteps)
    {
        Manifest = manifest;
        SkipSteps = skipSteps;
        _model = model;
        _optimizer = optimizer;
        State = state;
    }

    public CheckpointManifest Manifest { get; }
    public RankState State { get; }

    /// <summary>The steps of data a rollback asked to skip after this checkpoint (<see cref="LatestPointer.SkipSteps"/>).</summary>
    public long SkipSteps { get; }

    /// <summary>The newest verified checkpoint of the job, or null; each skipped one is reported through <paramref name="skipped"/>.</summary>
    public static async Task<RestoredCheckpoint?> LoadNewestAsync(IBlobStore store, string job, string configHash, int rank, Action<string> skipped,
                                                                  CancellationToken cancellationToken = default)
    {
        // The files this rank loads are kept as they are verified: each is read once, and what loads is what was checked.
        var selection = await CheckpointCatalog.FindNewestVerifiedAsync(
            store, job, configHash, (m, path) => path is CheckpointFiles.Model or CheckpointFiles.Optimizer || path == StateFile(m, rank), cancellationToken).ConfigureAwait(false);
        foreach (var s in selection.Skipped) skipped(s.Reason);
        if (selection.Checkpoint is not { } manifest) return null;
        string stateFile = StateFile(manifest, rank);
        byte[] model = selection.File(CheckpointFiles.Model);
        byte[] optimizer = selection.File(CheckpointFiles.Optimizer);
        var state = RankState.Parse(selection.File(stateFile), stateFile);
        return new RestoredCheckpoint(manifest, model, optimizer, state, selection.SkipSteps);
    }

    /// <summary>
    /// Another job's newest verified checkpoint, its weights only (job.init_from): a new job starts from them with a
    /// fresh optimizer, data order and step count. Null when that job has none of this model's shape.
    /// </summary>
    public static async Task<RestoredCheckpoint?> LoadWeightsAsync(IBlobStore store, string job, string configHash, Action<string> skipped,
                                                                   CancellationToken cancellationToken = default)
    {
        var selection = await CheckpointCatalog.FindNewestVerifiedAsync(
            store, job, configHash, (m, path) => path == CheckpointFiles.Model || path == StateFile(m, 0), cancellationToken).ConfigureAwait(false);
        foreach (var s in selection.Skipped) skipped(s.Reason);
        if (selection.Checkpoint is not { } manifest) return null;
        string stateFile = StateFile(manifest, 0);
        return new RestoredCheckpoint(manifest, selection.File(CheckpointFiles.Model), null, RankState.Parse(selection.File(stateFile), stateFile), 0);
    }

    /// <summary>True for another job's weights (<see cref="LoadWeightsAsync"/>): the session starts at step 0 from the first sample.</summary>
    public bool WeightsOnly => _optimizer is null;

    /// <summary>
    /// Loads weights (with CommerceMM's teacher and centre), optimizer moments and the dropout generator into a
    /// freshly built model (the weights alone when <see cref="WeightsOnly"/>). The files are read onto the host and
    /// copied into the model's tensors wherever they live, so a checkpoint written on one device restores onto any other.
    /// </summary>
    public void Apply(ITrainableModel model)
    {
        string source = $"checkpoint step-{Manifest.Step}";
        using (var weights = SafeTensors.Read(new MemoryStream(_model), $"{source}/{CheckpointFiles.Model}"))
            model.Module.LoadStateDict(weights.ByName);
        if (_optimizer is null) return;
        model.Optimizer.Load(new MemoryStream(_optimizer), $"{source}/{CheckpointFiles.Optimizer}");
        using var generator = torch.tensor(State.DropoutGenerator, device: torch.CPU);
        model.DropoutGenerator.set_state(generator);
    }

    /// <summary>This rank's state record, or rank 0's when the checkpoint was written by fewer ranks.</summary>
    private static string StateFile(CheckpointManifest manifest, int rank)
    {
        string own = $"{AsyncCheckpointSaver.RankFolder(rank)}/{RankState.FileName}";
        return manifest.Files.Any(f => f.Path == own) ? own : $"{AsyncCheckpointSaver.RankFolder(0)}/{RankState.FileName}";
    }

    /// <summary>
    /// Where <paramref name="stream"/> goes on for <paramref name="worldSize"/> ranks of <paramref name="batchSize"/>: where
    /// it stood when the checkpoint was taken, past the data of <see cref="SkipSteps"/> steps of that world.
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint has no position for that stream (another model kind's).</exception>
    public LoaderPosition Position(string stream, int worldSize, int batchSize) =>
        State.Streams.TryGetValue(stream, out var position) ? position.Rebase(worldSize).Skip(SkipSteps * worldSize * batchSize)
            : throw new CheckpointException($"checkpoint step-{Manifest.Step} records no position for stream '{stream}' (it has: {string.Join(", ", State.Streams.Keys)})");
}
