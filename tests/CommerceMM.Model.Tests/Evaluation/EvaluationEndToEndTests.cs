using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Model.Config;
using CommerceMM.Model.Evaluation;
using CommerceMM.Model.Training;
using Xunit.Abstractions;

namespace CommerceMM.Model.Tests.Evaluation;

/// <summary>
/// Real data to real figures in-process: a small Fashion-MNIST corpus, a few dozen training steps of the
/// tiny model, then the held-out streams through <see cref="EvalStreams"/> and <see cref="Evaluator"/>.
/// </summary>
public sealed class EvaluationEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private const int Steps = 40;
    private readonly string _data = Directory.CreateTempSubdirectory("cmm-eval-data-").FullName;

    [Fact]
    public async Task Evaluate_AfterAFewDozenSteps_BeatsRandomRecallAt1()
    {
        await FashionDatasetBuilder.BuildAsync(new FashionDatasetOptions { OutputDirectory = _data, TrainLimit = 300, EvalLimit = 60, VocabSize = 600 });
        var manifest = DatasetManifest.Read(_data);
        var config = CommerceMMConfig.Tiny() with
        {
            Mim = new MimConfig { Prototypes = 32 },
            Text = CommerceMMConfig.Tiny().Text with { VocabSize = manifest.Tokenizer.VocabSize },
        };
        using var model = new CommerceMMModel(config, 1);
        await TrainAsync(model);

        using var set = await EvalStreams.ReadAsync(new EvalStreamOptions { DatasetDirectory = _data, TextLength = config.Text.MaxLength, ProbeTrainItems = 300 });
        var report = Evaluator.Evaluate(model, set, new EvaluationOptions { LatencyRepeats = 1 });
        output.WriteLine(EvalTable.Format(report));

        Assert.Equal((60, 60, 60, 300), (report.GalleryItems, report.QueryItems, report.PhotoItems, report.ProbeTrainItems));
        var table = Assert.Single(report.Allocations);
        var byTask = table.Retrieval.ToDictionary(r => r.Task);
        // A modest margin: 40 steps on 300 products is far from trained; the 10× bar is for the main job.
        Assert.True(byTask["query_to_product"].TimesRandomAt1 >= 2, $"query→product R@1 is {byTask["query_to_product"].TimesRandomAt1:0.0}× random");
        Assert.True(byTask["photo_to_product"].TimesRandomAt1 >= 2, $"photo→product R@1 is {byTask["photo_to_product"].TimesRandomAt1:0.0}× random");
        Assert.All(table.Categorisation, p => Assert.True(p.Accuracy > p.Majority, $"{p.Embedding} probe {p.Accuracy:0.00} vs majority {p.Majority:0.00}"));
    }

    private async Task TrainAsync(CommerceMMModel model)
    {
        var options = new TrainerOptions { Schedule = new WarmupCosineSchedule(1e-3, WarmupSteps: 5, TotalSteps: Steps, MinLearningRate: 1e-4) };
        using var trainer = new Trainer(model, options);
        await using var pairs = DataLoader.Pairs(new LoaderOptions { DatasetDirectory = _data, Stream = StreamNames.Pairs, Seed = 1 });
        await using var omni = DataLoader.Omni(new LoaderOptions { DatasetDirectory = _data, Stream = StreamNames.Omni, Seed = 1 });
        for (long step = 0; step < Steps; step++)
        {
            using var p = await pairs.NextAsync();
            using var o = await omni.NextAsync();
            var result = trainer.Step(
                new PairInputs(p.Images, p.TokenIds, p.PaddingMask),
                new OmniInputs(o.SourceHasText, o.SourceHasImage, o.SourceImages, o.SourceTokenIds, o.SourcePaddingMask, o.TargetImages, o.TargetTokenIds, o.TargetPaddingMask),
                step);
            if (step % 10 == 0 || step == Steps - 1) output.WriteLine($"step {step}: pass1 {result.Pass1Loss:0.000} pass2 {result.Pass2Loss:0.000}");
        }
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
