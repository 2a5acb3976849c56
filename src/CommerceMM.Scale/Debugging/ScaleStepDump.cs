using CommerceMM.Model.Debugging;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Losses;
using CommerceMM.Scale.Training;
using CommerceMM.Torch;
using CommerceMM.Torch.Optim;
using CommerceMM.Torch.Serialization;

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
    public static ScaleStepDumpResult Write(ScaleConfig config, StepDumpOptions options, string directory, bool[,]? presence = null)
    {
        config.Validate();
        options.Validate();
        StepDump.CheckReplayable(config.Dropout);
        Directory.CreateDirectory(directory);

        using var model = new ScaleModel(config, options.Seed);
        using var batch = new ScaleSyntheticBatch(config, options.Rows, options.Seed + 1, presence);
        var inputs = batch.Inputs;
        long step = Warmup(model, inputs, options);

        using var scope = DisposeScope.Open();
        // The same draws as ScaleTrainer.Step: the step's generator, then the plan.
        using var generator = StepRandom.For(options.Seed, step, rank: 0);
        model.ZeroGrad();
        using var plan = ScaleMaskPlan.Create(config, inputs, inputs.EffectivePresence(config), generator, config.Weight);
        using var output = ScalePass.Run(model, inputs, plan, Collectives.Single, config.Weight);
        output.Total?.Backward();

        var parameters = model.NamedParameters().ToList();
        double gradNorm = GradientClipping.GlobalNorm(parameters.Select(p => p.Tensor).ToList());
        var result = new ScaleStepDumpResult(step, output.Results, output.Weights, output.Total?.Item() ?? 0, gradNorm);

        SafeTensors.Write(Path.Combine(directory, StepDump.InputsFile), ScaleStepDumpInputs.Collect(inputs, plan));
        SafeTensors.Write(Path.Combine(directory, StepDump.WeightsFile), model.StateDict());
        StepDump.WriteGradients(directory, parameters);
        SafeTensors.Write(Path.Combine(directory, OutputsFile), [("harmonized_weights", output.WeightMatrix!)]);
        ScaleStepDumpJson.WriteConfig(Path.Combine(directory, StepDump.ConfigFile), config, options, step);
        ScaleStepDumpJson.WriteLosses(Path.Combine(directory, StepDump.LossesFile), result);
        model.ZeroGrad();
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
