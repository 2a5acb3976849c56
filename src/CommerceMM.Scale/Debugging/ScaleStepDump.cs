using CommerceMM.Model.Debugging;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Losses;
using CommerceMM.Scale.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Debugging;

/// <summary>
/// Records one SCALE step completely enough for an independent implementation
/// (tools/reference/scale.py) to recompute all 15 losses, the harmonized weights and the gradient: the
/// batch (with its presence), every choice of the mask plan, the weights, the configuration, and what
/// this implementation computed. The same folder layout as CommerceMM's <see cref="StepDump"/>; the
/// step runs the forward and the backward but no optimizer update, so the dumped weights are the ones
/// the losses were computed with.
/// </summary>
public static class ScaleStepDump
{
    /// <summary>The (B, 5, 5) harmonized weight matrix this implementation computed, to locate a disagreement.</summary>
    public const string OutputsFile = "outputs.safetensors";

    /// <summary>Builds the model and a synthetic batch, takes the warm-up steps, then dumps the next step into <paramref name="directory"/>.</summary>
    /// <param name="presence">rows × 5 given modalities; <see cref="ScaleSyntheticBatch.MixedPresence"/> when null</param>
    /// <param name="settings">device and precision of the dumped step; CPU fp32 when null (the reference replays fp32)</param>
    public static ScaleStepDumpResult Write(ScaleConfig config, StepDumpOptions options, string directory, bool[,]? presence = null, DeviceSettings? settings = null)
    {
        config.Validate();
        options.Validate();
        StepDump.CheckReplayable(config.Dropout);
        Directory.CreateDirectory(directory);

        using var model = new ScaleModel(config, options.Seed, settings);
        using var batch = new ScaleSyntheticBatch(config, options.Rows, options.Seed + 1, presence);
        long step = Warmup(model, batch.Inputs, options);

        using var scope = NewDisposeScope();
        var inputs = batch.Inputs.To(model.Device);
        // The same draws as ScaleTrainer.Step: the step's generator, then the plan.
        using var generator = StepRandom.For(options.Seed, step, rank: 0);
        model.zero_grad();
        using var plan = ScaleMaskPlan.Create(config, inputs, inputs.EffectivePresence(config), generator, config.Weight);
        using var output = ScalePass.Run(model, inputs, plan, ModelCollectives.Single, config.Weight);
        output.Total?.backward();

        var parameters = model.NamedParameters();
        double gradNorm = GradientClipping.GlobalNorm(parameters.Select(p => p.Tensor).ToList());
        double total = output.Total is { } t ? Scalars.ToDouble(t) : 0;
        var result = new ScaleStepDumpResult(step, output.Results, output.Weights, total, gradNorm);

        SafeTensors.Write(Path.Combine(directory, StepDump.InputsFile), ScaleStepDumpInputs.Collect(inputs, plan));
        SafeTensors.Write(Path.Combine(directory, StepDump.WeightsFile), model.StateDict());
        StepDump.WriteGradients(directory, parameters);
        SafeTensors.Write(Path.Combine(directory, OutputsFile), [("harmonized_weights", output.WeightMatrix!)]);
        ScaleStepDumpJson.WriteConfig(Path.Combine(directory, StepDump.ConfigFile), config, options, step);
        ScaleStepDumpJson.WriteLosses(Path.Combine(directory, StepDump.LossesFile), result);
        model.zero_grad();
        return result;
    }

    /// <summary>Full trainer steps 0..WarmupSteps-1 on the same batch; returns the next step index.</summary>
    private static long Warmup(ScaleModel model, ScaleInputs inputs, StepDumpOptions options)
    {
        if (options.WarmupSteps == 0) return 0;
        using var trainer = new ScaleTrainer(model, StepDump.WarmupTrainerOptions(options));
        for (long s = 0; s < options.WarmupSteps; s++)
        {
            var r = trainer.Step(inputs, s);
            if (r.Skipped) throw new InvalidOperationException($"warm-up step {s} was skipped (non-finite loss or gradient)");
        }
        return options.WarmupSteps;
    }
}
