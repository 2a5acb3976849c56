using CommerceMM.Model.Debugging;
using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests;

public class LossTests
{
    private static readonly CommerceMMConfig Tiny = CommerceMMConfig.Tiny() with { Mim = new MimConfig { Prototypes = 32 } };

    [Fact]
    public void Contrastive_IdenticalOrthonormalEmbeddings_MatchesClosedForm()
    {
        // Queries = keys = the 3×3 identity, scale 2: every row's logits are (2, 0, 0) up to order.
        using var scope = torch.NewDisposeScope();
        var eye = torch.tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, [3, 3]);
        var loss = Contrastive.LocalRowsLoss(eye, eye, torch.arange(3), torch.tensor(2f), world: 1, globalRows: 3);
        double expected = -Math.Log(Math.Exp(2) / (Math.Exp(2) + 2));
        Assert.Equal(expected, loss.ToDouble(), 6);
    }

    [Fact]
    public void Contrastive_TwoRanksNormaliser_AveragesToGlobalMean()
    {
        using var scope = torch.NewDisposeScope();
        var eye = torch.tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6f, 0.8f, 0 }, [4, 3]);
        var global = Contrastive.LocalRowsLoss(eye, eye, torch.arange(4), torch.tensor(5f), 1, 4).ToDouble();
        var first = Contrastive.LocalRowsLoss(eye.narrow(0, 0, 2), eye, torch.arange(2), torch.tensor(5f), 2, 4).ToDouble();
        var second = Contrastive.LocalRowsLoss(eye.narrow(0, 2, 2), eye, torch.arange(2, 4), torch.tensor(5f), 2, 4).ToDouble();
        Assert.Equal(global, (first + second) / 2, 6);
    }

    [Fact]
    public void Pass1Plan_Masks_RespectSpecialTokensAndPatchCount()
    {
        using var batches = new SyntheticBatch(Tiny, rows: 16, seed: 3);
        using var g = new Generator(9);
        using var plan = Pass1Plan.Create(Tiny, batches.Pairs, g);
        long[] ids = Scalars.ToArray<long>(batches.Pairs.TokenIds);
        bool[] padding = Scalars.ToArray<bool>(batches.Pairs.Padding);
        long[] labels = Scalars.ToArray<long>(plan.MlmLabels);
        long[] corrupted = Scalars.ToArray<long>(plan.MlmInputIds);
        int selected = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            bool special = padding[i] || ids[i] == Tiny.Text.ClsId || ids[i] == Tiny.Text.SepId;
            if (special)
            {
                Assert.Equal(-100, labels[i]);
                Assert.Equal(ids[i], corrupted[i]);
            }
            if (labels[i] != -100) { selected++; Assert.Equal(ids[i], labels[i]); }
        }
        Assert.InRange(selected, 1, ids.Length / 3);
        bool[] patches = Scalars.ToArray<bool>(plan.PatchMask);
        int n = Tiny.Image.PatchCount, expected = (int)Math.Round(0.3 * n, MidpointRounding.AwayFromZero);
        for (int r = 0; r < 16; r++) Assert.Equal(expected, patches.Skip(r * n).Take(n).Count(m => m));
    }

    [Fact]
    public void Pass2_QueryOnlySources_ImageAndMultimodalSourceTasksAbsent()
    {
        using var model = new CommerceMMModel(Tiny, 1);
        using var batches = new SyntheticBatch(Tiny, rows: 6, seed: 4, sourceKinds: [0, 0, 0, 0, 0, 0]);
        using var output = Pass2.Run(model, batches.Omni, Tiny.FullDepth, ModelCollectives.Single, Tiny.Weight);
        foreach (var r in output.Results)
        {
            var expected = r.Task.StartsWith("omni_t2", StringComparison.Ordinal) ? TaskOutcome.Ok : TaskOutcome.Absent;
            Assert.Equal(expected, r.Status);
            Assert.Equal(expected == TaskOutcome.Ok, double.IsFinite(r.Loss));
        }
    }

    [Fact]
    public void Pass2_RowsWithoutModality_DoNotChangeTheLoss()
    {
        // Changing the (absent) image of a query row and the (absent) text of a photo row changes nothing.
        using var model = new CommerceMMModel(Tiny, 1);
        using var a = new SyntheticBatch(Tiny, rows: 6, seed: 5);
        using var b = new SyntheticBatch(Tiny, rows: 6, seed: 5);
        using (torch.no_grad())
        {
            b.Omni.SourceImages.select(0, 0).fill_(7);       // row 0 is a query: no image
            b.Omni.SourceTokenIds.select(0, 1).fill_(9);     // row 1 is a photo: no text
        }
        using var lossA = Pass2.Run(model, a.Omni, Tiny.FullDepth, ModelCollectives.Single, Tiny.Weight);
        using var lossB = Pass2.Run(model, b.Omni, Tiny.FullDepth, ModelCollectives.Single, Tiny.Weight);
        Assert.Equal(lossA.Results.Select(r => r.Loss), lossB.Results.Select(r => r.Loss));
    }

    [Fact]
    public void Pass1_ZeroWeights_ReportDisabledAndComputeNothing()
    {
        var config = Tiny with { TaskWeights = new Dictionary<string, double> { ["itm"] = 0, ["mim_kl"] = 0 } };
        using var model = new CommerceMMModel(config, 1);
        using var batches = new SyntheticBatch(config, rows: 4, seed: 6);
        using var g = new Generator(1);
        using var plan = Pass1Plan.Create(config, batches.Pairs, g);
        using var output = Pass1.Run(model, batches.Pairs, plan, config.FullDepth, ModelCollectives.Single, g, config.Weight);
        Assert.Equal(TaskOutcome.Disabled, output.Results.Single(r => r.Task == "itm").Status);
        Assert.Equal(TaskOutcome.Disabled, output.Results.Single(r => r.Task == "mim_kl").Status);
        Assert.False(output.Losses.ContainsKey("itm"));
        Assert.Null(output.CenterEstimate);
        Assert.All(output.Results.Where(r => r.Task is "itc" or "mlm" or "mim_fr"), r => Assert.Equal(TaskOutcome.Ok, r.Status));
    }

    [Fact]
    public void Itm_SingleRow_IsAbsentNotZero()
    {
        using var model = new CommerceMMModel(Tiny, 1);
        using var batches = new SyntheticBatch(Tiny, rows: 1, seed: 7);
        using var g = new Generator(1);
        using var plan = Pass1Plan.Create(Tiny, batches.Pairs, g);
        using var output = Pass1.Run(model, batches.Pairs, plan, Tiny.FullDepth, ModelCollectives.Single, g, Tiny.Weight);
        var itm = output.Results.Single(r => r.Task == "itm");
        Assert.Equal(TaskOutcome.Absent, itm.Status);
        Assert.True(double.IsNaN(itm.Loss));
    }

    [Fact]
    public void Pass1Plan_SampleSeeds_MasksFollowTheSampleNotTheRow()
    {
        using var batches = new SyntheticBatch(Tiny, rows: 4, seed: 8);
        using var scope = torch.NewDisposeScope();
        var p = batches.Pairs;
        ulong[] seeds = [11, 22, 33, 44];
        var order = torch.tensor(new long[] { 2, 0, 3, 1 });
        var shuffled = new PairInputs(p.Images.index_select(0, order), p.TokenIds.index_select(0, order), p.Padding.index_select(0, order), [33, 11, 44, 22]);
        using var g1 = new Generator(1);
        using var g2 = new Generator(999); // a different rank's generator must not matter
        using var plan = Pass1Plan.Create(Tiny, p with { SampleSeeds = seeds }, g1);
        using var shuffledPlan = Pass1Plan.Create(Tiny, shuffled, g2);
        Assert.Equal(Scalars.ToArray<long>(plan.MlmLabels.index_select(0, order)), Scalars.ToArray<long>(shuffledPlan.MlmLabels));
        Assert.Equal(Scalars.ToArray<long>(plan.MlmInputIds.index_select(0, order)), Scalars.ToArray<long>(shuffledPlan.MlmInputIds));
        Assert.Equal(Scalars.ToArray<bool>(plan.PatchMask.index_select(0, order)), Scalars.ToArray<bool>(shuffledPlan.PatchMask));
    }
}
