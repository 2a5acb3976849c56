using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;
using TorchSharp;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// Our side of `cmm bench model`: the two-pass Trainer.Step, and the same step done the naive way
/// (one forward/backward per task). Both use the synthetic batch and the settings that
/// tools/reference/train_step.py uses (lr 1e-4 constant, weight decay 0.05, clip 1.0), in fp32 or bf16.
/// </summary>
internal sealed class ModelBenchmark : IDisposable
{
    private const double LearningRate = 1e-4;
    private readonly CommerceMMModel _model;
    private readonly SyntheticBatch _batch;
    private readonly Trainer _trainer;
    private readonly ulong _seed;
    private readonly HostBufferPool _snapshotBuffers = new();
    private long _step;

    /// <param name="settings">device and precision of our step (the reference always runs fp32 on the CPU)</param>
    public ModelBenchmark(CommerceMMConfig config, int rows, ulong seed, DeviceSettings settings)
    {
        Config = config;
        Rows = rows;
        _seed = seed;
        _model = new CommerceMMModel(config, seed, settings);
        // Same batch seed as StepDump, so the reference's dump holds this very batch.
        _batch = new SyntheticBatch(config, rows, seed + 1, device: _model.Device);
        _trainer = new Trainer(_model, new TrainerOptions
        {
            Seed = seed,
            Schedule = new WarmupCosineSchedule(LearningRate, WarmupSteps: 0, TotalSteps: long.MaxValue / 2, MinLearningRate: LearningRate),
            AdamW = new AdamWOptions { WeightDecay = 0.05 },
            MaxGradNorm = 1.0,
        });
    }

    public CommerceMMConfig Config { get; }
    public int Rows { get; }
    public PairInputs Pairs => _batch.Pairs;
    public OmniInputs Omni => _batch.Omni;

    /// <summary>Whether the model runs its text and image encoders side by side given two or more threads (ConcurrentBranches).</summary>
    public bool EncodersSideBySide => _model.Branches.Enabled;

    /// <summary>One Trainer.Step (two passes, two backwards, clip, AdamW, teacher and centre).</summary>
    public void Step()
    {
        _trainer.Step(_batch.Pairs, _batch.Omni, _step++);
        Synchronize();
    }

    /// <summary>On a GPU, waits for the queued kernels, so that a timing ends when the work does.</summary>
    private void Synchronize()
    {
        if (_model.Device.type == DeviceType.CUDA) torch.cuda.synchronize(_model.Device);
    }

    /// <summary>The weights and optimizer state as a checkpoint's snapshot, as a worker's save copies them.</summary>
    public CheckpointSnapshot Snapshot(long step)
    {
        return CheckpointFiles.Capture(_model, _trainer.Optimizer, _snapshotBuffers).ToSnapshot(step, []);
    }

    /// <summary>Median ms of Trainer.Step (two passes, two backwards, clip, AdamW, teacher and centre) and the process's CPU ms per step.</summary>
    public (double WallMs, double CpuMs) TwoPassStep(int reps)
    {
        var (wall, cpu) = Measure.MedianAndCpuSeconds(Step, reps);
        return (wall * 1e3, cpu * 1e3);
    }

    /// <summary>The parts of a step <see cref="Profile"/> times, in the names tools/reference/train_step.py --profile uses.</summary>
    public static readonly string[] Components =
        ["masks", "pass 1 forward", "pass 1 backward", "pass 2 forward", "pass 2 backward", "loss values", "clip", "AdamW", "teacher EMA + centre", "dispose"];

    /// <summary>
    /// Median ms of each part of Trainer.Step, done here part by part with the trainer's own pieces
    /// (single process: no all-reduce): the masks drawn on the CPU generator, each pass's forward
    /// (with the loss values it reads) and backward, the loss values, clipping, AdamW (with zero_grad),
    /// the teacher EMA and the mim_kl centre, and disposing the step's tensors.
    /// </summary>
    public Dictionary<string, double> Profile(int reps)
    {
        var laps = Components.ToDictionary(c => c, _ => new List<double>());
        for (int rep = -3; rep < reps; rep++)
        {
            long step = _step++;
            var part = new double[Components.Length];
            long last = System.Diagnostics.Stopwatch.GetTimestamp();
            void Lap(int i)
            {
                Synchronize();
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                part[i] += System.Diagnostics.Stopwatch.GetElapsedTime(last, now).TotalMilliseconds;
                last = now;
            }
            var allocation = StepRandom.Allocation(Config.EffectiveAllocations, _seed, step);
            var generator = StepRandom.For(_seed, step, 0);
            _trainer.Optimizer.ZeroGrad();
            var plan = Pass1Plan.Create(Config, _batch.Pairs, generator); Lap(0);
            var pass1 = Pass1.Run(_model, _batch.Pairs, plan, allocation, ModelCollectives.Single, generator, Config.Weight); Lap(1);
            pass1.Backward(); Lap(2);
            var pass2 = Pass2.Run(_model, _batch.Omni, allocation, ModelCollectives.Single, Config.Weight); Lap(3);
            pass2.Backward(); Lap(4);
            double loss = (pass1.Total is { } t1 ? Scalars.ToDouble(t1) : 0) + (pass2.Total is { } t2 ? Scalars.ToDouble(t2) : 0); Lap(5);
            if (double.IsFinite(loss))
            {
                double norm = GradientClipping.GlobalNorm(_trainer.Optimizer.Flat); Lap(6);
                _trainer.Optimizer.Step(LearningRate, GradientClipping.Coefficient(norm, 1.0));
                _trainer.Optimizer.ZeroGrad(); Lap(7);
                _model.Teacher.Update(_model, Config.Mim.TeacherMomentum);
                if (pass1.CenterEstimate is { } c)
                {
                    using var center = c.Sum.Div(c.Count);
                    Ema.LerpInPlace(_model.MimCenter, center, 1 - Config.Mim.CenterMomentum);
                }
                Lap(8);
            }
            pass2.Dispose();
            pass1.Dispose();
            plan.Dispose();
            generator.Dispose();
            Lap(9);
            if (rep >= 0) for (int i = 0; i < Components.Length; i++) laps[Components[i]].Add(part[i]);
        }
        return laps.ToDictionary(kv => kv.Key, kv => Measure.Median(kv.Value));
    }

    /// <summary>
    /// Median ms of the naive step: each of the 14 tasks alone (its own encoder forwards, its own
    /// backward), gradients accumulated, then the same clip, AdamW and teacher update. The gradient
    /// equals the two-pass one (TrainingStepTests pins that), so only the time differs.
    /// </summary>
    public double PerTaskStepMilliseconds(int reps) => Measure.MedianSeconds(PerTaskStep, reps) * 1e3;

    private void PerTaskStep()
    {
        long step = _step++;
        using var scope = torch.NewDisposeScope();
        var allocation = StepRandom.Allocation(Config.EffectiveAllocations, 1, step);
        using var generator = StepRandom.For(1, step, 0);
        _trainer.Optimizer.ZeroGrad();
        using var plan = Pass1Plan.Create(Config, _batch.Pairs, generator);
        foreach (string task in TaskIds.All)
        {
            double Only(string t) => t == task ? Config.Weight(t) : 0;
            using var output = TaskIds.Pass1.Contains(task)
                ? Pass1.Run(_model, _batch.Pairs, plan, allocation, ModelCollectives.Single, generator, Only)
                : Pass2.Run(_model, _batch.Omni, allocation, ModelCollectives.Single, Only);
            output.Backward();
        }
        double norm = GradientClipping.GlobalNorm(_trainer.Optimizer.Flat);
        _trainer.Optimizer.Step(LearningRate, GradientClipping.Coefficient(norm, 1.0));
        _model.Teacher.Update(_model, Config.Mim.TeacherMomentum);
        _trainer.Optimizer.ZeroGrad();
        Synchronize();
    }

    public void Dispose()
    {
        _trainer.Dispose();
        _batch.Dispose();
        _model.Dispose();
    }
}
