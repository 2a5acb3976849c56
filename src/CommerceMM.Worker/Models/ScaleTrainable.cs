using System.Globalization;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Data.Scale;
using CommerceMM.Model.Tasks;
using CommerceMM.Scale;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Training;
using CommerceMM.Model.Training;
using TorchSharp;
using static TorchSharp.torch;
using CommerceMM.Worker.Training;

namespace CommerceMM.Worker.Models;

/// <summary>
/// SCALE behind <see cref="ITrainableModel"/>: one product batch per step, masks seeded per sample (as
/// CommerceMM's); products with none of the enabled modalities never reach it (the loader skips them).
/// </summary>
internal sealed class ScaleTrainable(ScaleModel model, ScaleTrainer trainer, ulong jobSeed) : ITrainableModel
{
    public IBatchStream OpenStream(string stream, LoaderOptions options)
    {
        var c = model.Config;
        options.TextLength = c.Text.MaxLength;
        options.TableLength = c.Table.MaxLength;
        options.Modalities = c.Modalities.Select(m => m.Name()).ToList();
        return DataLoader.Products(options);
    }

    public nn.Module Module => model;
    public AdamWOptimizer Optimizer => trainer.Optimizer;
    public Generator DropoutGenerator => model.DropoutGenerator;
    public Device Device => model.Device;
    public long SkippedSteps { get => trainer.SkippedSteps; set => trainer.SkippedSteps = value; }

    public ModelStep Step(IReadOnlyList<Batch> batches, long step)
    {
        var products = (ScaleBatch)batches[0];
        var inputs = ScaleData.Inputs(products) with { SampleSeeds = SampleSeeds.For(jobSeed, products.Epoch, products.Keys) };
        var r = trainer.Step(inputs, step);
        var weights = r.Weights.Where(w => w.Status == TaskOutcome.Ok).ToDictionary(w => w.Modality.Name(), w => w.Mean);
        long tokens = Tokens.Real(products.TextPadding) + Tokens.Real(products.TablePadding);
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"loss {r.Loss:F4} weights {string.Join(" ", weights.Select(w => $"{w.Key}={w.Value:F2}"))}");
        return new ModelStep(r.Step, r.Tasks, weights, r.GradNorm, r.LearningRate, r.Skipped, r.AllReduceSeconds, tokens, summary);
    }

    public void Dispose()
    {
        trainer.Dispose();
        model.Dispose();
    }
}
