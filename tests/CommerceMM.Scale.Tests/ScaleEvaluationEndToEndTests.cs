using System.Diagnostics;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Model.Evaluation;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Evaluation;
using CommerceMM.Scale.Losses;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

/// <summary>A tiny built data set (audio for a few products only, to stay fast), a briefly trained tiny model, the whole evaluation from disk.</summary>
public class ScaleEvaluationEndToEndTests(ITestOutputHelper output)
{
    private const int TrainProducts = 256, HeldOutProducts = 200, BatchSize = 32, Steps = 24, AudioProducts = 32;

    [Fact]
    public async Task Run_BrieflyTrainedTinyModel_BeatsRandomOnMapForEveryAblationRow()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"cmm-scale-eval-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        try
        {
            await ScaleDatasetBuilder.BuildAsync(new ScaleDatasetOptions
            {
                Catalog = new FashionDatasetOptions { OutputDirectory = folder, TrainLimit = TrainProducts, EvalLimit = HeldOutProducts, VocabSize = 200, Workers = 2 },
                AudioLimit = AudioProducts,   // espeak-ng, as DataSmokeTests needs it too
            });
            double built = clock.Elapsed.TotalSeconds;
            var config = ConfigFor(folder);
            using var model = new ScaleModel(config, 41);
            Train(model, folder);
            double trained = clock.Elapsed.TotalSeconds;

            var options = new ScaleEvalOptions { Rows = ModalitySet.PaperAblation(config), ProbeTrainLimit = TrainProducts, Probe = new ProbeOptions { BatchSize = 32 } };   // 8 steps an epoch on 256 products
            var report = ScaleEvaluator.Run(model, folder, options);
            output.WriteLine(ScaleEvalTable.Format(report));
            output.WriteLine($"build {built:F1} s, train {trained - built:F1} s, evaluate {clock.Elapsed.TotalSeconds - trained:F1} s");

            Assert.Equal(["image+text", "+table", "+video", "+audio"], report.Rows.Select(r => r.Label));
            foreach (var row in report.Rows)
            {
                var r = row.Retrieval;
                Assert.Equal(HeldOutProducts, row.HeldOutProducts);
                Assert.True(r.Queries + r.Gallery + row.ProductsWithoutModality == HeldOutProducts, $"{row.Label}: every product is a query, a gallery item or left out");
                Assert.True(r.MeanAveragePrecision > 1.5 * r.ChanceAveragePrecision, $"{row.Label}: mAP {r.MeanAveragePrecision:F4} vs chance {r.ChanceAveragePrecision:F4}");
                Assert.True(r.MeanAveragePrecision > row.RandomEmbeddings.MeanAveragePrecision + 0.05, $"{row.Label}: mAP {r.MeanAveragePrecision:F4} vs random embeddings {row.RandomEmbeddings.MeanAveragePrecision:F4}");
                // random embeddings land near the closed-form chance: both baselines measure the same thing
                Assert.InRange(row.RandomEmbeddings.MeanAveragePrecision, 0.7 * r.ChanceAveragePrecision, 1.3 * r.ChanceAveragePrecision);
                Assert.True(row.Categorisation.Accuracy > row.Categorisation.Majority, $"{row.Label}: probe {row.Categorisation.Accuracy:F4} vs majority {row.Categorisation.Majority:F4}");
            }

            // A model trained with fewer modalities is evaluated with exactly those by default, and refuses others.
            using var imageText = new ScaleModel(config with { Modalities = [ScaleModality.Text, ScaleModality.Image] }, 43);
            var own = ScaleEvaluator.Run(imageText, folder, new ScaleEvalOptions { ProbeTrainLimit = 64 });
            Assert.Equal("image+text", Assert.Single(own.Rows).Label);
            Assert.Equal(["image", "text"], own.Rows[0].Modalities);
            var refused = Assert.Throws<ArgumentException>(() => ScaleEvaluator.Run(imageText, folder, options));
            Assert.Contains("table", refused.Message);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static ScaleConfig ConfigFor(string folder)
    {
        using var reader = new ScaleBatchReader(folder, StreamNames.Products, textLength: 24, tableLength: 48);
        return ScaleData.ForData(new ScaleConfig
        {
            Dim = 32, Heads = 2, FfnMultiplier = 2, EmbedDim = 32,
        }, reader);
    }

    /// <summary>SCALE's forward and backward on the training stream, a few passes over it.</summary>
    private static void Train(ScaleModel model, string folder)
    {
        var config = model.Config;
        using var reader = new ScaleBatchReader(folder, StreamNames.Products, config.Text.MaxLength, config.Table.MaxLength);
        var batches = Enumerable.Range(0, TrainProducts / BatchSize).Select(i => reader.Read(i * BatchSize, BatchSize)).ToList();
        try
        {
            using var optimizer = new AdamWOptimizer(model.NamedParameters(), new AdamWOptions { WeightDecay = 0 });
            using var generator = new Generator(42);
            for (int step = 0; step < Steps; step++)
            {
                var inputs = ScaleData.Inputs(batches[step % batches.Count]);
                using var plan = ScaleMaskPlan.Create(config, inputs, inputs.EffectivePresence(config), generator, config.Weight);
                using var pass = ScalePass.Run(model, inputs, plan, ModelCollectives.Single, config.Weight);
                optimizer.ZeroGrad();
                pass.Total!.backward();
                optimizer.Step(3e-3);
            }
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }
}
