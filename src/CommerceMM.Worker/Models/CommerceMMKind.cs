using CommerceMM.Data.Format;
using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Training;
using CommerceMM.Collectives;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.Spec;
using CommerceMM.Worker.Training;

namespace CommerceMM.Worker.Models;

/// <summary>CommerceMM (MODEL.md §2–§7): two streams (pairs, omni), 14 tasks in two passes.</summary>
internal sealed class CommerceMMKind : IModelKind
{
    public string Name => ModelKinds.CommerceMM;
    public IReadOnlyList<string> Streams { get; } = [StreamNames.Pairs, StreamNames.Omni];
    public IReadOnlyList<string> TaskIds => Model.Config.TaskIds.All;

    public void FillDefaults(ModelSection model)
    {
        var config = ModelConfigFactory.Create(model, vocabSize: null);
        model.Dropout = config.Dropout;
        model.Prototypes = config.Mim.Prototypes;
    }

    public void Validate(ModelSection model)
    {
        var errors = new SpecErrors();
        if (model.Modalities.Count > 0)
            errors.Add("model.modalities", "CommerceMM always uses image and text; model.modalities is for kind scale");
        if (model.MaskedWeightGradient is not null)
            errors.Add("model.masked_weight_gradient", "harmonized weights are SCALE's; model.masked_weight_gradient is for kind scale");
        errors.Check(() => ConfigErrors.AsSpecErrors(() => ModelConfigFactory.Create(model, vocabSize: null).Validate()));
        errors.ThrowIfAny();
    }

    public string ConfigHash(TrainingSpec spec) => ConfigHashing.Hash(ModelConfigFactory.ForData(spec));

    public ITrainableModel Create(TrainingSpec spec, DeviceSettings device, ProcessGroup? group)
    {
        var model = new CommerceMMModel(ModelConfigFactory.ForData(spec), spec.Job.Seed, device);
        try
        {
            return new CommerceMMTrainable(model, new Trainer(model, TrainerOptionsFactory.For(spec), group), spec.Job.Seed);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
