using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Debugging;

/// <summary>
/// Records one CommerceMM step completely enough for an independent implementation
/// (tools/reference/commercemm.py) to recompute every loss and the gradient: the inputs and every
/// random choice, the weights (student, EMA teacher, mim_kl centre), the configuration with the
/// sampled allocation, and what this implementation computed. The step runs both passes and both
/// backwards but no optimizer update, so the dumped weights are the ones the losses were computed with.
/// </summary>
public static class StepDump
{
    public const string InputsFile = "inputs.safetensors";
    public const string WeightsFile = "weights.safetensors";
    public const string GradientsFile = "gradients.safetensors";
    public const string ConfigFile = "config.json";
    public const string LossesFile = "losses.json";

    /// <summary>Builds the model and a synthetic batch, takes the warm-up steps, then dumps the next step into <paramref name="directory"/>.</summary>
    /// <param name="settings">device and precision of the dumped step; CPU fp32 when null (the reference replays fp32)</param>
    public static StepDumpResult Write(CommerceMMConfig config, StepDumpOptions options, string directory, DeviceSettings? settings = null)
    {
        config.Validate();
        options.Validate();
        CheckReplayable(config.Dropout);
        Directory.CreateDirectory(directory);

        using var model = new CommerceMMModel(config, options.Seed, settings);
        using var batch = new SyntheticBatch(config, options.Rows, options.Seed + 1, device: model.Device);
        long step = Warmup(model, batch, options, config);
        var allocation = StepRandom.Allocation(config.EffectiveAllocations, options.Seed, step);

        using var scope = torch.NewDisposeScope();
        using var generator = StepRandom.For(options.Seed, step, rank: 0);
        model.zero_grad();
        // The same order of draws as Trainer.Step: the plan first, then pass 1's ITM negatives.
        using var plan = Pass1Plan.Create(config, batch.Pairs, generator);
        using var pass1 = Pass1.Run(model, batch.Pairs, plan, allocation, ModelCollectives.Single, generator, config.Weight);
        pass1.Backward();
        using var pass2 = Pass2.Run(model, batch.Omni, allocation, ModelCollectives.Single, config.Weight);
        pass2.Backward();

        var trainable = model.TrainableParameters();
        double gradNorm = GradientClipping.GlobalNorm(trainable.Select(p => p.Tensor).ToList());
        var result = new StepDumpResult(step, allocation, pass1.Results.Concat(pass2.Results).ToList(),
                                        Total(pass1), Total(pass2), gradNorm);

        SafeTensors.Write(Path.Combine(directory, InputsFile), StepDumpInputs.Collect(batch, plan, pass1, pass2));
        SafeTensors.Write(Path.Combine(directory, WeightsFile), model.StateDict());
        WriteGradients(directory, trainable);
        StepDumpJson.WriteConfig(Path.Combine(directory, ConfigFile), config, options, step, allocation);
        StepDumpJson.WriteLosses(Path.Combine(directory, LossesFile), result);
        model.zero_grad();
        return result;
    }

    private static double Total(PassOutput pass) => pass.Total is { } t ? Scalars.ToDouble(t) : 0;

    /// <summary>Dropout masks are drawn inside the layers and not recorded, so a dump with dropout could not be replayed.</summary>
    public static void CheckReplayable(double dropout)
    {
        if (dropout != 0) throw new ConfigException("model.dropout", $"a step dump needs dropout 0 to be replayable (its masks are not recorded), got {dropout}");
    }

    /// <summary>Per-parameter gradients: not needed to check the norm, but they locate a disagreement.</summary>
    public static void WriteGradients(string directory, IEnumerable<(string Name, Tensor Tensor)> parameters)
    {
        using var scope = torch.NewDisposeScope();
        var gradients = parameters.Select(p => (p.Name, Grad: p.Tensor.grad)).Where(p => p.Grad is not null).Select(p => (p.Name, p.Grad!)).ToList();
        SafeTensors.Write(Path.Combine(directory, GradientsFile), gradients);
    }

    /// <summary>The trainer settings of the warm-up steps before a dumped step: constant rate, the dump's seed.</summary>
    public static TrainerOptions WarmupTrainerOptions(StepDumpOptions options) => new()
    {
        Seed = options.Seed,
        Schedule = new WarmupCosineSchedule(options.WarmupLearningRate, WarmupSteps: 0, TotalSteps: 1_000_000, MinLearningRate: 0),
    };

    /// <summary>
    /// Full trainer steps 0..WarmupSteps-1 on the same batch; returns the next step index. The warm-up
    /// always trains in fp32 (on the model's device), then hands its state to the dumped model: dumps of
    /// one step in fp32 and in bf16 then start from the same weights, so they compare the step's
    /// precision. Trained in bf16, two steps at 1e-3 already move the weights apart: AdamW's first
    /// updates are ±lr wherever the gradient is nonzero, so bf16's gradient noise flips the sign of
    /// the small ones; how far bf16 training drifts is what tools/precision-band measures.
    /// </summary>
    private static long Warmup(CommerceMMModel model, SyntheticBatch batch, StepDumpOptions options, CommerceMMConfig config)
    {
        if (options.WarmupSteps == 0) return 0;
        using var fp32 = model.Settings.Precision == Precision.Fp32 ? null : new CommerceMMModel(config, options.Seed, model.Settings with { Precision = Precision.Fp32 });
        var trained = fp32 ?? model;
        using (var trainer = new Trainer(trained, WarmupTrainerOptions(options)))
        {
            for (long s = 0; s < options.WarmupSteps; s++)
            {
                var r = trainer.Step(batch.Pairs, batch.Omni, s);
                if (r.Skipped) throw new InvalidOperationException($"warm-up step {s} was skipped (non-finite loss or gradient)");
            }
        }
        if (fp32 is not null) model.LoadStateDict(fp32.StateDict().ToDictionary(e => e.Name, e => e.Tensor));
        return options.WarmupSteps;
    }
}
