using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
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
    private long _step;

    /// <param name="settings">device and precision of our step (the reference always runs fp32 on the CPU)</param>
    public ModelBenchmark(CommerceMMConfig config, int rows, ulong seed, DeviceSettings settings)
    {
        Config = config;
        Rows = rows;
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

    /// <summary>Median ms of Trainer.Step: two passes, two backwards, clip, AdamW, teacher and centre.</summary>
    public double TwoPassStepMilliseconds(int reps) =>
        Measure.MedianSeconds(() => _trainer.Step(_batch.Pairs, _batch.Omni, _step++), reps) * 1e3;

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
            output.Total?.backward();
        }
        GradientClipping.ClipGlobalNorm(_model.TrainableParameters().Select(p => p.Tensor).ToList(), 1.0);
        _trainer.Optimizer.Step(LearningRate);
        _model.Teacher.Update(_model, Config.Mim.TeacherMomentum);
        _trainer.Optimizer.ZeroGrad();
    }

    public void Dispose()
    {
        _trainer.Dispose();
        _batch.Dispose();
        _model.Dispose();
    }
}
