using System.Diagnostics;
using CommerceMM.Collectives;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Model.NN;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.DataSets;
using CommerceMM.Worker.Models;
using CommerceMM.Worker.Spec;
using TorchSharp;

namespace CommerceMM.Worker.Training;

/// <summary>
/// One rank's training state for one generation: the model (whichever <c>model.kind</c>) and its data
/// streams, started fresh from the job seed or restored from a checkpoint, on the job's device.
/// <see cref="StepAsync"/> runs one step on the next batch of every stream (moved to that device);
/// <see cref="Snapshot"/> copies the state to host memory for an asynchronous save.
/// </summary>
public sealed class TrainingSession : IAsyncDisposable
{
    private readonly ITrainableModel _model;
    private readonly IReadOnlyList<(string Name, IBatchStream Loader)> _streams;
    private readonly Dictionary<string, LoaderPosition> _positions;
    private readonly HostBufferPool _snapshotBuffers = new();
    private readonly string _tokenizerSha256;
    /// <summary>Saved in every checkpoint: the model is of no use without it, and a rebuilt data set can keep it (--tokenizer-from).</summary>
    private readonly SnapshotFile _tokenizer;

    private TrainingSession(ITrainableModel model, IReadOnlyList<(string, IBatchStream)> streams, string tokenizerSha256, SnapshotFile tokenizer,
                            long step, int rank, int worldSize)
    {
        _model = model;
        _tokenizerSha256 = tokenizerSha256;
        _tokenizer = tokenizer;
        _streams = streams;
        _positions = streams.ToDictionary(s => s.Item1, s => s.Item2.Position);
        Step = step;
        Rank = rank;
        WorldSize = worldSize;
    }

    public ITrainableModel Model => _model;
    /// <summary>Completed steps; the next step has this index.</summary>
    public long Step { get; private set; }
    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>The configuration hash a checkpoint of this spec carries, computed without building the model: another architecture's checkpoints are refused by it.</summary>
    public static string ConfigHashFor(TrainingSpec spec) => ModelKinds.For(spec.Model).ConfigHash(spec);

    /// <summary>
    /// Builds the session. With a restore source, weights, optimizer, data positions and counters come
    /// from it (the weights alone from another job's, job.init_from); otherwise the model is initialised from the job seed and rank 0's weights are broadcast
    /// so every rank starts identical even if initialisation ever became nondeterministic.
    /// </summary>
    public static async Task<TrainingSession> OpenAsync(TrainingSpec spec, DeviceSettings device, int rank, int worldSize, ProcessGroup? group,
                                                        RestoredCheckpoint? restore, CancellationToken cancellationToken = default)
    {
        var kind = ModelKinds.For(spec.Model);
        var model = kind.Create(spec, device, group);
        var streams = new List<(string, IBatchStream)>();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            long step = 0;
            string folder = DataFolder.Of(spec.Data);
            var data = DatasetManifest.Read(folder);
            var tokenizer = new SnapshotFile(CheckpointFiles.Tokenizer, DatasetTokenizer.Read(folder, data));
            if (restore is not null)
            {
                TrainedOnCheck.Tokenizer(restore.State, restore.Manifest.Step, spec.Data.Dir, data,
                                         restore.WeightsOnly ? spec.Job.InitFrom : spec.Job.Name, restore.WeightsOnly ? CheckpointUse.InitFrom : CheckpointUse.Resume);
                // Another job's weights (job.init_from) start this job afresh: its step, data order and optimizer from the beginning.
                if (!restore.WeightsOnly)
                {
                    TrainedOnCheck.Streams(restore.State, restore.Manifest.Step, spec.Data.Dir, data, spec.Job.Name);
                    step = restore.State.Step;
                    model.SkippedSteps = restore.State.SkippedSteps;
                }
                restore.Apply(model);
            }
            else if (group is not null)
            {
                using var noGrad = torch.no_grad();
                foreach (var (_, t) in model.Module.StateDict()) group.Broadcast(t, root: 0);
            }
            foreach (string stream in kind.Streams)
                streams.Add((stream, model.OpenStream(stream, LoaderOptionsFor(spec, folder, stream, rank, worldSize, restore is { WeightsOnly: false } ? restore.Position(stream, worldSize, spec.Data.BatchSize) : null))));
            var session = new TrainingSession(model, streams, data.Tokenizer.Sha256, tokenizer, step, rank, worldSize);
            session.WarmSnapshotBuffers();
            return await Task.FromResult(session).ConfigureAwait(false);
        }
        catch
        {
            foreach (var (_, loader) in streams) await loader.DisposeAsync().ConfigureAwait(false);
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs step <see cref="Step"/> on the next batch of each stream.</summary>
    public async Task<SessionStep> StepAsync(CancellationToken cancellationToken = default)
    {
        long waitStart = Stopwatch.GetTimestamp();
        var batches = new List<Batch>(_streams.Count);
        var onDevice = new List<Batch>(_streams.Count);
        try
        {
            foreach (var (_, loader) in _streams) batches.Add(await loader.NextBatchAsync(cancellationToken).ConfigureAwait(false));
            double dataWait = Stopwatch.GetElapsedTime(waitStart).TotalSeconds;
            TorchRuntime.UseConfiguredThreads();   // the awaits above may have resumed on another thread
            // The loader collates on the host; the step runs where the weights are.
            foreach (var b in batches) onDevice.Add(b.To(_model.Device));
            var result = _model.Step(onDevice, Step);
            for (int i = 0; i < batches.Count; i++) _positions[_streams[i].Name] = batches[i].Position;
            Step++;
            var consumed = batches.Select((b, i) => new StreamConsumption(_streams[i].Name, b.Count, b.Keys, b.SkippedReasons)).ToList();
            return new SessionStep(result, consumed, dataWait, batches[0].Epoch);
        }
        finally
        {
            foreach (var b in onDevice) b.Dispose();
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>Where every stream stands after the last step (for the coordinator's shard ledger).</summary>
    public IReadOnlyDictionary<string, LoaderPosition> Positions => _positions;

    /// <summary>
    /// This rank's state after <see cref="Step"/> steps, copied to host memory (from any device: the files
    /// are the same as a CPU run's); training may go on at once.
    /// </summary>
    public CheckpointSnapshot Snapshot()
    {
        var captured = CheckpointFiles.Capture(_model.Module, _model.Optimizer, _snapshotBuffers);
        using var generator = _model.DropoutGenerator.get_state();
        var state = new RankState
        {
            Step = Step, SkippedSteps = _model.SkippedSteps, WorldSize = WorldSize, Rank = Rank,
            Streams = new Dictionary<string, LoaderPosition>(_positions), DropoutGenerator = generator.data<byte>().ToArray(),
            TokenizerSha256 = _tokenizerSha256,
        };
        return captured.ToSnapshot(Step, [new SnapshotFile(RankState.FileName, state.ToJsonBytes())], [_tokenizer]);
    }

    /// <summary>
    /// Captures the state once and lets it go, so that the pool holds host buffers whose pages are already mapped: every
    /// save's stall, the first of each generation (often a preemption's) included, is then its copy alone. The copy into
    /// new buffers took 88 ms against 15 ms into pooled ones (<c>cmm bench checkpoint --preset small</c>, CPU).
    /// </summary>
    private void WarmSnapshotBuffers()
    {
        var captured = CheckpointFiles.Capture(_model.Module, _model.Optimizer, _snapshotBuffers);
        captured.Fill?.Invoke();
        captured.Release();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, loader) in _streams) await loader.DisposeAsync().ConfigureAwait(false);
        _model.Dispose();
    }

    private static LoaderOptions LoaderOptionsFor(TrainingSpec spec, string folder, string stream, int rank, int worldSize, LoaderPosition? resume) => new()
    {
        DatasetDirectory = folder,
        Stream = stream,
        BatchSize = spec.Data.BatchSize,
        Seed = spec.Job.Seed,
        Rank = rank,
        WorldSize = worldSize,
        Prefetch = spec.Data.Prefetch,
        Workers = spec.Data.DecodeWorkers,
        Resume = resume,
    };
}
