using CommerceMM.Model.Training;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Worker.Training;

/// <summary>The optimiser settings a spec describes, the same for every model kind.</summary>
public static class TrainerOptionsFactory
{
    public static TrainerOptions For(TrainingSpec spec) => new()
    {
        Seed = spec.Job.Seed,
        Schedule = new WarmupCosineSchedule(spec.Optimizer.Lr, spec.Optimizer.WarmupSteps, spec.Job.MaxSteps, spec.Optimizer.MinLr),
        AdamW = new AdamWOptions { WeightDecay = spec.Optimizer.WeightDecay },
        MaxGradNorm = spec.Optimizer.MaxGradNorm,
    };
}
