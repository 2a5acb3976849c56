using System.Globalization;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Model;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using TorchSharp;
using static TorchSharp.torch;
using CommerceMM.Worker.Training;

namespace CommerceMM.Worker.Models;

/// <summary>CommerceMM behind <see cref="ITrainableModel"/>: a pair batch and an omni batch per step, masks seeded per sample.</summary>
internal sealed class CommerceMMTrainable(CommerceMMModel model, Trainer trainer, ulong jobSeed) : ITrainableModel
{
    public IBatchStream OpenStream(string stream, LoaderOptions options)
    {
        options.TextLength = model.Config.Text.MaxLength;
        return stream == StreamNames.Pairs ? DataLoader.Pairs(options) : DataLoader.Omni(options);
    }

    public nn.Module Module => model;
    public AdamWOptimizer Optimizer => trainer.Optimizer;
    public Generator DropoutGenerator => model.DropoutGenerator;
    public Device Device => model.Device;
    public long SkippedSteps { get => trainer.SkippedSteps; set => trainer.SkippedSteps = value; }

    public ModelStep Step(IReadOnlyList<Batch> batches, long step)
    {
        var pairs = (PairBatch)batches[0];
        var omni = (OmniBatch)batches[1];
        var r = trainer.Step(
            new PairInputs(pairs.Images, pairs.TokenIds, pairs.PaddingMask, SampleSeeds.For(jobSeed, pairs.Epoch, pairs.Keys)),
            new OmniInputs(omni.SourceHasText, omni.SourceHasImage, omni.SourceImages, omni.SourceTokenIds, omni.SourcePaddingMask,
                           omni.TargetImages, omni.TargetTokenIds, omni.TargetPaddingMask),
            step);
        long tokens = Tokens.Real(pairs.PaddingMask) + Tokens.Real(omni.SourcePaddingMask) + Tokens.Real(omni.TargetPaddingMask);
        string summary = string.Create(CultureInfo.InvariantCulture, $"{r.Allocation}: pass1 {r.Pass1Loss:F4} pass2 {r.Pass2Loss:F4}");
        return new ModelStep(r.Step, r.Tasks, new Dictionary<string, double>(), r.GradNorm, r.LearningRate, r.Skipped, r.Timings.AllReduce, tokens, summary);
    }

    public void Dispose()
    {
        trainer.Dispose();
        model.Dispose();
    }
}
