using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Training;

namespace CommerceMM.Scale.Tests;

public class DataSmokeTests
{
    [Fact]
    public async Task Train_OnBuiltFashionScaleData_LossFalls()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"cmm-scale-smoke-{Guid.NewGuid():N}");
        try
        {
            await ScaleDatasetBuilder.BuildAsync(new ScaleDatasetOptions
            {
                Catalog = new FashionDatasetOptions { OutputDirectory = folder, TrainLimit = 24, EvalLimit = 4, VocabSize = 200, Workers = 2 },
                AudioLimit = 8,
            });
            using var reader = new ScaleBatchReader(folder, StreamNames.Products, textLength: 24, tableLength: 48);
            var config = ScaleData.ForData(new ScaleConfig { Dim = 32, Heads = 2, FfnMultiplier = 2, EmbedDim = 32 }, reader);
            using var batch = reader.Read(0, 24);
            var inputs = ScaleData.Inputs(batch);
            using var model = new ScaleModel(config, 1);
            using var trainer = new ScaleTrainer(model, new TrainerOptions { Schedule = new WarmupCosineSchedule(3e-3, 0, 1000), AdamW = new AdamWOptions { WeightDecay = 0 } });
            var results = Enumerable.Range(0, 24).Select(s => trainer.Step(inputs, s)).ToList();
            Assert.All(results, r => Assert.False(r.Skipped));
            Assert.All(results[0].Tasks, t => Assert.Equal(TaskOutcome.Ok, t.Status));
            Assert.All(results[0].Weights, w => Assert.Equal(TaskOutcome.Ok, w.Status));
            double before = results.Take(3).Average(r => r.Loss), after = results.TakeLast(3).Average(r => r.Loss);
            Assert.True(after < 0.8 * before, $"loss {before:F3} → {after:F3}");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
