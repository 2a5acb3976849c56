using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Training;
using CommerceMM.Tensors;
using CommerceMM.Tests.Shared;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests.Training;

/// <summary>
/// A SCALE step, with modalities missing, leaves no Scalar to the finalizer (CI met the race once in its token
/// encoder's sum). Alone in its collection: another test's Scalars would count.
/// </summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public class UnheldScalarTests
{
    private const string Name = "unheld scalars";

    [Theory]
    [InlineData(Precision.Fp32)]
    [InlineData(Precision.Bf16)]
    public void TrainerStep_LeavesNoScalarToTheFinalizer(Precision precision)
    {
        var present = TestInputs.All(4);
        present[0, (int)ScaleModality.Audio] = false;
        present[2, (int)ScaleModality.Video] = false;
        using var model = new ScaleModel(TestInputs.Small, 14, new DeviceSettings(CPU, precision));
        using var batch = new TestInputs(TestInputs.Small, rows: 4, seed: 15, present);
        using var trainer = new ScaleTrainer(model, new TrainerOptions { Schedule = new WarmupCosineSchedule(1e-3, 0, 10) });
        long step = 0;
        Assert.Equal(0, UnheldScalars.LeftToTheFinalizerBy(() => trainer.Step(batch.Inputs, step++)));
    }
}
