using System.Globalization;
using CommerceMM.Torch.Serialization;

namespace CommerceMM.Torch.Optim;

// Optimizer state as a safetensors file: the moments as tensors, the step count in the metadata.
public sealed partial class AdamW
{
    private const string StepKey = "adamw.step";

    public void Save(Stream stream) =>
        SafeTensors.Write(stream, StateTensors(), new Dictionary<string, string> { [StepKey] = StepCount.ToString(CultureInfo.InvariantCulture) });

    public void Load(Stream stream, string source)
    {
        using var file = SafeTensors.Read(stream, source);
        if (!file.Metadata.TryGetValue(StepKey, out var stepText) || !long.TryParse(stepText, CultureInfo.InvariantCulture, out long step))
            throw new InvalidDataException($"{source}: not an AdamW state file (metadata '{StepKey}' missing or not a number)");
        LoadState(file.ByName, step);
    }
}
