using System.Diagnostics;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Training;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Torch;
using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.Optim;
using CommerceMM.Torch.Serialization;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Worker.Training;

/// <summary>
/// One rank's training state for one generation: the model, its trainer and both data streams,
/// started fresh from the job seed or restored from a checkpoint. <see cref="StepAsync"/> runs one
/// two-pass step; <see cref="Snapshot"/> copies the state to host memory for an asynchronous save.
/// </summary>
public sealed class TrainingSession : IAsyncDisposable
{
    private readonly TrainingSpec _spec;
    private readonly ShardedLoader<PairBatch> _pairs;
    private readonly ShardedLoader<OmniBatch> _omni;
    private LoaderPosition _pairsPosition, _omniPosition;

    private TrainingSession(TrainingSpec spec, CommerceMMModel model, Trainer trainer, ShardedLoader<PairBatch> pairs, ShardedLoader<OmniBatch> omni,
                            long step, int rank, int worldSize)
    {
        _spec = spec;
        Model = model;
        Trainer = trainer;
        _pairs = pairs;
        _omni = omni;
        _pairsPosition = pairs.Position;
        _omniPosition = omni.Position;
        Step = step;
        Rank = rank;
        WorldSize = worldSize;
    }

    public CommerceMMModel Model { get; }
    public Trainer Trainer { get; }
    /// <summary>Completed steps; the next step has this index.</summary>
    public long Step { get; private set; }
    public int Rank { get; }
    public int WorldSize { get; }
    /// <summary>Hash of the model-shaping config: checkpoints from another architecture are refused by it.</summary>
    public string ConfigHash => ConfigHashing.Hash(Model.Config);
    public double DataWaitSeconds { get; private set; }

    /// <summary>The configuration hash a checkpoint of this spec will carry, computed without building the model.</summary>
    public static string ConfigHashFor(TrainingSpec spec)
    {
        var manifest = DatasetManifest.Read(spec.Data.Dir);
        return ConfigHashing.Hash(ModelConfigFactory.Create(spec.Model, manifest.Tokenizer.VocabSize, (manifest.Image.Channels, manifest.Image.Width)));
    }

    /// <summary>
    /// Builds the session. With a restore source, weights, optimizer, data positions and counters come
    /// from it; otherwise the model is initialised from the job seed and rank 0's weights are broadcast
    /// so every rank starts identical even if initialisation ever became nondeterministic.
    /// </summary>
    public static async Task<TrainingSession> OpenAsync(TrainingSpec spec, int rank, int worldSize, ProcessGroup? group,
                                                        RestoredCheckpoint? restore, CancellationToken cancellationToken = default)
    {
        var manifest = DatasetManifest.Read(spec.Data.Dir);
        var config = ModelConfigFactory.Create(spec.Model, manifest.Tokenizer.VocabSize, (manifest.Image.Channels, manifest.Image.Width));
        cancellationToken.ThrowIfCancellationRequested();
        var model = new CommerceMMModel(config, spec.Job.Seed);
        var trainer = new Trainer(model, TrainerOptionsFor(spec), group);
        long step = 0;
        LoaderPosition? pairsAt = null, omniAt = null;
        try
        {
            if (restore is not null)
            {
                restore.Apply(model, trainer);
                step = restore.State.Step;
                trainer.SkippedSteps = restore.State.SkippedSteps;
                pairsAt = restore.State.Pairs.Rebase(worldSize);
                omniAt = restore.State.Omni.Rebase(worldSize);
            }
            else if (group is not null)
            {
                using var noGrad = Torch.Torch.NoGrad();
                foreach (var (_, t) in model.StateDict()) group.Broadcast(t, root: 0);
            }
            var pairs = DataLoader.Pairs(LoaderOptionsFor(spec, StreamNames.Pairs, config, rank, worldSize, pairsAt));
            var omni = DataLoader.Omni(LoaderOptionsFor(spec, StreamNames.Omni, config, rank, worldSize, omniAt));
            return await Task.FromResult(new TrainingSession(spec, model, trainer, pairs, omni, step, rank, worldSize)).ConfigureAwait(false);
        }
        catch
        {
            trainer.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs step <see cref="Step"/> on the next batch of each stream.</summary>
    public async Task<SessionStep> StepAsync(CancellationToken cancellationToken = default)
    {
        long waitStart = Stopwatch.GetTimestamp();
        using var pairs = await _pairs.NextAsync(cancellationToken).ConfigureAwait(false);
        using var omni = await _omni.NextAsync(cancellationToken).ConfigureAwait(false);
        DataWaitSeconds = Stopwatch.GetElapsedTime(waitStart).TotalSeconds;
        var result = Trainer.Step(
            new PairInputs(pairs.Images, pairs.TokenIds, pairs.PaddingMask, SampleSeeds.For(_spec.Job.Seed, pairs.Epoch, pairs.Keys)),
            new OmniInputs(omni.SourceHasText, omni.SourceHasImage, omni.SourceImages, omni.SourceTokenIds, omni.SourcePaddingMask,
                           omni.TargetImages, omni.TargetTokenIds, omni.TargetPaddingMask),
            Step);
        _pairsPosition = pairs.Position;
        _omniPosition = omni.Position;
        Step++;
        long tokens = RealTokens(pairs.PaddingMask) + RealTokens(omni.SourcePaddingMask) + RealTokens(omni.TargetPaddingMask);
        return new SessionStep(result, pairs.Count, omni.Count, tokens, DataWaitSeconds, pairs.Epoch, pairs.Keys, omni.Keys);
    }

    /// <summary>Where both streams stand after the last step (for the coordinator's shard ledger).</summary>
    public (LoaderPosition Pairs, LoaderPosition Omni) Positions => (_pairsPosition, _omniPosition);

    private static long RealTokens(Tensor padding)
    {
        using var real = padding.LogicalNot();
        using var sum = real.Sum();
        return sum.ItemLong();
    }

    /// <summary>This rank's state after <see cref="Step"/> steps, copied to host memory; training may go on at once.</summary>
    public CheckpointSnapshot Snapshot()
    {
        using var model = new MemoryStream();
        SafeTensors.Write(model, Model.StateDict());
        using var optimizer = new MemoryStream();
        Trainer.Optimizer.Save(optimizer);
        using var generator = Model.DropoutGenerator.GetState();
        var state = new RankState
        {
            Step = Step, SkippedSteps = Trainer.SkippedSteps, WorldSize = WorldSize, Rank = Rank,
            Pairs = _pairsPosition, Omni = _omniPosition, DropoutGenerator = generator.ToArray<byte>(),
        };
        return new CheckpointSnapshot(Step,
            [new SnapshotFile(CheckpointFiles.Model, model.ToArray()), new SnapshotFile(CheckpointFiles.Optimizer, optimizer.ToArray())],
            [new SnapshotFile(RankState.FileName, state.ToJsonBytes())]);
    }

    public async ValueTask DisposeAsync()
    {
        await _pairs.DisposeAsync().ConfigureAwait(false);
        await _omni.DisposeAsync().ConfigureAwait(false);
        Trainer.Dispose();
        Model.Dispose();
    }

    internal static TrainerOptions TrainerOptionsFor(TrainingSpec spec) => new()
    {
        Seed = spec.Job.Seed,
        Schedule = new WarmupCosineSchedule(spec.Optimizer.Lr, spec.Optimizer.WarmupSteps, spec.Job.MaxSteps, spec.Optimizer.MinLr),
        AdamW = new AdamWOptions { WeightDecay = spec.Optimizer.WeightDecay },
        MaxGradNorm = spec.Optimizer.MaxGradNorm,
    };

    private static LoaderOptions LoaderOptionsFor(TrainingSpec spec, string stream, CommerceMMConfig config, int rank, int worldSize, LoaderPosition? resume) => new()
    {
        DatasetDirectory = spec.Data.Dir,
        Stream = stream,
        BatchSize = spec.Data.BatchSize,
        TextLength = config.Text.MaxLength,
        Seed = spec.Job.Seed,
        Rank = rank,
        WorldSize = worldSize,
        Prefetch = spec.Data.Prefetch,
        Workers = spec.Data.DecodeWorkers,
        Resume = resume,
    };
}
