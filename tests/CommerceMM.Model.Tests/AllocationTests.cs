using CommerceMM.Model.Debugging;
using CommerceMM.Model.Config;
using CommerceMM.Model.Training;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests;

public class AllocationTests
{
    private static readonly CommerceMMConfig Config = CommerceMMConfig.Tiny() with
    {
        Mim = new MimConfig { Prototypes = 32 },
        Allocations = [new Allocation(2, 2, 1, 0.5), new Allocation(1, 2, 1, 0.2), new Allocation(2, 1, 1, 0.2), new Allocation(1, 1, 1, 0.1)],
    };

    [Fact]
    public void EveryAllocation_TrainsAndEmbedsWithTheRightShapes()
    {
        using var model = new CommerceMMModel(Config, 1);
        using var batches = new SyntheticBatch(Config, rows: 3, seed: 1);
        foreach (var allocation in Config.Allocations)
        {
            using var scope = torch.NewDisposeScope();
            var text = model.EmbedText(batches.Pairs.TokenIds, batches.Pairs.Padding, allocation);
            var image = model.EmbedImage(batches.Pairs.Images, allocation);
            var (t, v, m) = model.EmbedProduct(batches.Pairs.TokenIds, batches.Pairs.Padding, batches.Pairs.Images, allocation);
            foreach (var e in new[] { text, image, t, v, m })
            {
                Assert.Equal(new long[] { 3, Config.EmbedDim }, e.shape);
                Assert.All(Scalars.ToArray<float>(e.norm(1, false, 2)), n => Assert.Equal(1f, n, 4));
            }
            Assert.Equal(Scalars.ToArray<float>(text), Scalars.ToArray<float>(t));
        }
        // Shallower allocations are different functions of the same weights.
        using var full = model.EmbedImage(batches.Pairs.Images, Config.Allocations[0]);
        using var shallow = model.EmbedImage(batches.Pairs.Images, Config.Allocations[2]);
        Assert.NotEqual(Scalars.ToArray<float>(full), Scalars.ToArray<float>(shallow));
    }

    [Fact]
    public void AllocationSampler_FollowsProbabilities_AndIsAPureFunctionOfSeedAndStep()
    {
        var counts = Config.Allocations.ToDictionary(a => a, _ => 0);
        for (long step = 0; step < 4000; step++) counts[StepRandom.Allocation(Config.Allocations, 5, step)]++;
        foreach (var a in Config.Allocations) Assert.InRange(counts[a] / 4000.0, a.Probability - 0.04, a.Probability + 0.04);
        Assert.Equal(StepRandom.Allocation(Config.Allocations, 5, 123), StepRandom.Allocation(Config.Allocations, 5, 123));
    }

    [Fact]
    public void TrainerStep_RunsEveryAllocation()
    {
        using var model = new CommerceMMModel(Config, 1);
        using var batches = new SyntheticBatch(Config, rows: 4, seed: 2);
        using var trainer = new Trainer(model, new TrainerOptions { Seed = 5 });
        var seen = new HashSet<Allocation>();
        for (long step = 0; step < 40 && seen.Count < Config.Allocations.Count; step++)
        {
            var result = trainer.Step(batches.Pairs, batches.Omni, step);
            Assert.False(result.Skipped);
            seen.Add(result.Allocation);
        }
        Assert.Equal(Config.Allocations.Count, seen.Count);
    }
}
