using CommerceMM.Collectives;
using CommerceMM.Tensors;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Worker.Models;

/// <summary>One kind of model a job can train (<c>model.kind</c>): how to check its spec, hash its shape and build it.</summary>
public interface IModelKind
{
    /// <summary>The <c>model.kind</c> value.</summary>
    string Name { get; }

    /// <summary>The streams one step reads, one batch each, in the order <see cref="ITrainableModel.Step"/> receives them.</summary>
    IReadOnlyList<string> Streams { get; }

    /// <summary>Every task id a step reports, in reporting order.</summary>
    IReadOnlyList<string> TaskIds { get; }

    /// <summary>Checks the model section without the data set (at spec load); errors name the key.</summary>
    /// <exception cref="SpecException">A bad value.</exception>
    void Validate(ModelSection model);

    /// <summary>Sets each key the spec left unset (dropout, prototypes, …) to the value this model takes for it, so a printed spec says what runs.</summary>
    void FillDefaults(ModelSection model);

    /// <summary>The hash a checkpoint of this spec carries: everything that shapes the weights, computed without building them.</summary>
    /// <exception cref="SpecException">The data set does not fit the model (e.g. an enabled modality it lacks).</exception>
    string ConfigHash(TrainingSpec spec);

    /// <summary>
    /// The model, initialised from the job seed (on the CPU, so identically on any device) and then placed
    /// on <paramref name="device"/>'s device in its precision, with its optimizer over <paramref name="group"/> (null: one process).
    /// </summary>
    ITrainableModel Create(TrainingSpec spec, DeviceSettings device, ProcessGroup? group);
}
