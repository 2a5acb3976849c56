using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CommerceMM.Scale;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Training;
using CommerceMM.Collectives;
using CommerceMM.Tensors;
using CommerceMM.Worker.Spec;
using CommerceMM.Worker.Training;

namespace CommerceMM.Worker.Models;

/// <summary>M5Product's SCALE (MODEL.md §8): one product stream, five modalities, 15 losses and the harmonized weights.</summary>
internal sealed class ScaleKind : IModelKind
{
    public string Name => ModelKinds.Scale;
    public IReadOnlyList<string> Streams { get; } = [Data.Format.StreamNames.Products];
    public IReadOnlyList<string> TaskIds => ScaleTaskIds.All;

    public void Validate(ModelSection model) => ScaleConfigFactory.Create(model);

    public void FillDefaults(ModelSection model)
    {
        var config = ScaleConfigFactory.Create(model);
        model.Dropout = config.Dropout;
        model.MaskedWeightGradient = config.MaskedWeightGradient;
        model.Modalities = config.Modalities.Select(ScaleModalities.Name).ToList();
    }

    public string ConfigHash(TrainingSpec spec) => Hash(ScaleConfigFactory.ForData(spec));

    public ITrainableModel Create(TrainingSpec spec, DeviceSettings device, ProcessGroup? group)
    {
        var model = new ScaleModel(ScaleConfigFactory.ForData(spec), spec.Job.Seed, device);
        try
        {
            return new ScaleTrainable(model, new ScaleTrainer(model, TrainerOptionsFactory.For(spec), group), spec.Job.Seed);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Everything that shapes the weights; the enabled modalities do not (every encoder is always built).</summary>
    internal static string Hash(ScaleConfig c)
    {
        var shape = new
        {
            Kind = ModelKinds.Scale, c.Dim, c.Heads, c.FfnMultiplier, c.EmbedDim, c.FusionLayers,
            Text = new { c.Text.VocabSize, c.Text.Layers, c.Text.MaxLength },
            Image = new { c.Image.Channels, c.Image.Size, c.Image.Patch, c.Image.Layers },
            c.Table, c.Video, c.Audio,
        };
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(shape)));
        return Convert.ToHexStringLower(digest)[..16];
    }
}
