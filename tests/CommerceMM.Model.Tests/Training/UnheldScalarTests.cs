using CommerceMM.Collectives;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using CommerceMM.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Training;

/// <summary>
/// A training step leaves no Scalar to the finalizer, including the ones TorchSharp makes inside the ops we call,
/// which the analyzer cannot see: one such Scalar per step is enough for a multi-day run to meet the race.
/// </summary>
[Collection(LiveTensorCountCollection.Name)]
public class UnheldScalarTests
{
    [Fact]
    public void TheCount_SeesTorchSharpsPlus_OneScalarPerSum()
    {
        using var x = torch.ones(3);
        Assert.Equal(5, UnheldScalars.LeftToTheFinalizerBy(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                using var sum = x + x;
            }
        }));
        Assert.Equal(0, UnheldScalars.LeftToTheFinalizerBy(() =>
        {
            using var sum = x.Add(x);
        }));
    }

    /// <param name="grouped">through a one-rank Gloo group: the bucketed all-reduce during backward, as a worker runs</param>
    [Theory]
    [InlineData(Precision.Fp32, false)]
    [InlineData(Precision.Bf16, false)]
    [InlineData(Precision.Fp32, true)]
    public void TrainerStep_LeavesNoScalarToTheFinalizer(Precision precision, bool grouped)
    {
        var config = CommerceMMConfig.Tiny();
        using var model = new CommerceMMModel(config, 1, new DeviceSettings(torch.CPU, precision));
        using var batches = new SyntheticBatch(config, rows: 4, seed: 2);
        var store = Directory.CreateTempSubdirectory("cmm-store-");
        using var group = grouped ? ProcessGroup.Create(new FileRendezvousStore(store.FullName), 0, 1, torch.CPU, TimeSpan.FromSeconds(30)) : null;
        using var trainer = new Trainer(model, new TrainerOptions { Seed = 5 }, group);
        long step = 0;
        Assert.Equal(0, UnheldScalars.LeftToTheFinalizerBy(() => trainer.Step(batches.Pairs, batches.Omni, step++)));
        store.Delete(recursive: true);
    }
}
