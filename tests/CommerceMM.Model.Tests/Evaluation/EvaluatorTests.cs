using CommerceMM.Model.Config;
using CommerceMM.Model.Evaluation;

namespace CommerceMM.Model.Tests.Evaluation;

public class EvaluatorTests
{
    private static readonly CommerceMMConfig Config = CommerceMMConfig.Tiny() with
    {
        Mim = new MimConfig { Prototypes = 16 },
        // Full depth deliberately not listed first: the report must still start with it.
        Allocations = [new Allocation(1, 1, 1, 0.3), new Allocation(2, 2, 1, 0.5), new Allocation(1, 2, 1, 0.2)],
    };

    private static readonly EvaluationOptions Fast = new() { LatencyRepeats = 1, LatencyBatchSize = 4, EmbedBatchSize = 8, Probe = new ProbeOptions { Epochs = 2 } };

    [Fact]
    public void Evaluate_EveryAllocation_OneTableEachFullDepthFirst()
    {
        using var model = new CommerceMMModel(Config, 1);
        using var set = SyntheticEvalSet.Create(Config, products: 12, seed: 3);

        var report = Evaluator.Evaluate(model, set, Fast);

        Assert.Equal(["t2-v2-f1", "t1-v1-f1", "t1-v2-f1"], report.Allocations.Select(a => a.Allocation));
        Assert.True(report.Allocations[0].FullDepth);
        Assert.All(report.Allocations.Skip(1), a => Assert.False(a.FullDepth));
        Assert.Equal((12, 12, 12, 24), (report.GalleryItems, report.QueryItems, report.PhotoItems, report.ProbeTrainItems));
        foreach (var a in report.Allocations)
        {
            Assert.Equal(["query_to_product", "photo_to_product", "image_to_text", "text_to_image"], a.Retrieval.Select(r => r.Task));
            Assert.All(a.Retrieval, r =>
            {
                Assert.Equal(3, r.Recall.Count);
                Assert.Equal([1 / 12.0, 5 / 12.0, 10 / 12.0], r.Random);
                Assert.All(r.Recall, v => Assert.InRange(v, 0, 1));
            });
            Assert.Equal(["e_m", "e_v"], a.Categorisation.Select(p => p.Embedding));
            Assert.All(a.Categorisation, p => Assert.Equal((24, 12), (p.TrainItems, p.TestItems)));
            Assert.Equal(3, a.Cost.Count);
            Assert.All(a.Cost, c => Assert.True(c.ForwardFlopsPerItem > 0 && c.LatencyMsPerItem > 0));
        }
        // Shallower allocations cost fewer FLOPs for every embedding kind they cut.
        var full = report.Allocations[0].Cost;
        var shallow = report.Allocations[1].Cost;
        Assert.All(full.Zip(shallow), pair => Assert.True(pair.Second.ForwardFlopsPerItem < pair.First.ForwardFlopsPerItem));
    }

    [Fact]
    public void Evaluate_OneAllocation_OneTable()
    {
        using var model = new CommerceMMModel(Config, 1);
        using var set = SyntheticEvalSet.Create(Config, products: 6, seed: 4);

        var report = Evaluator.Evaluate(model, set, Fast with { Allocations = AllocationNames.Parse("t1-v2-f1", Config) });

        Assert.Equal("t1-v2-f1", Assert.Single(report.Allocations).Allocation);
    }

    [Fact]
    public void Evaluate_Twice_SameFigures()
    {
        using var model = new CommerceMMModel(Config, 2);
        using var set = SyntheticEvalSet.Create(Config, products: 9, seed: 5);
        var options = Fast with { Allocations = [Config.FullDepth] };

        var first = Evaluator.Evaluate(model, set, options).Allocations[0];
        var second = Evaluator.Evaluate(model, set, options).Allocations[0];

        Assert.Equal(first.Retrieval.SelectMany(r => r.Recall), second.Retrieval.SelectMany(r => r.Recall));
        Assert.Equal(first.Categorisation.Select(p => p.Accuracy), second.Categorisation.Select(p => p.Accuracy));
        Assert.Equal(first.Cost.Select(c => c.ForwardFlopsPerItem), second.Cost.Select(c => c.ForwardFlopsPerItem));
    }

    [Fact]
    public void Format_PrintsEveryAllocationAndJsonRoundTrips()
    {
        using var model = new CommerceMMModel(Config, 1);
        using var set = SyntheticEvalSet.Create(Config, products: 6, seed: 6);
        var report = Evaluator.Evaluate(model, set, Fast);

        string text = EvalTable.Format(report);
        string json = EvalTable.ToJson(report);

        Assert.Contains("== allocation t2-v2-f1 (full depth)", text);
        Assert.Contains("== allocation t1-v1-f1:", text);
        Assert.Contains("query_to_product", text);
        Assert.Contains("\"s_t·e_m\"", json);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(3, doc.RootElement.GetProperty("allocations").GetArrayLength());
    }
}
