using CommerceMM.Data.Format;
using CommerceMM.Model.Config;
using CommerceMM.Worker.DataSets;

namespace CommerceMM.Worker.Spec;

/// <summary>The model configuration a spec describes: a preset, its overrides, and the data set's tokenizer and image shape.</summary>
public static class ModelConfigFactory
{
    /// <param name="vocabSize">the tokenizer's real vocabulary size; null keeps the preset's (for validation before data is opened)</param>
    /// <param name="image">the data set's image channels and size; null keeps the preset's</param>
    public static CommerceMMConfig Create(ModelSection model, int? vocabSize, (int Channels, int Size)? image = null)
    {
        var config = CommerceMMConfig.Preset(model.Preset);
        config = config with
        {
            TaskWeights = model.TaskWeights,
            Allocations = model.Allocations.Select(a => new Allocation(a.Text, a.Image, a.Fusion, a.Probability)).ToList(),
            Dropout = model.Dropout ?? config.Dropout,
            Mim = model.Prototypes is { } k ? config.Mim with { Prototypes = k } : config.Mim,
        };
        if (vocabSize is { } v) config = config with { Text = config.Text with { VocabSize = v } };
        if (image is { } i) config = config with { Image = config.Image with { Channels = i.Channels, Size = i.Size } };
        return config;
    }

    /// <summary>
    /// A warning when the preset would cut the data set's images into far more patches than it is sized for: the image
    /// encoder's cost grows with the square of that count (tiny on 224-pixel images: 1,024 patches instead of 16, a CPU
    /// step of 47 s instead of under one). Null when they fit.
    /// </summary>
    public static string? OversizedImagesWarning(TrainingSpec spec, CommerceMMConfig config)
    {
        int size = config.Image.Size;
        var fitting = CommerceMMConfig.PresetsSizedFor(size).ToList();
        if (fitting.Contains(spec.Model.Preset)) return null;
        var sized = CommerceMMConfig.Preset(spec.Model.Preset).Image;
        var advice = fitting
            .Select(p => $"model.preset={p} ({(CommerceMMConfig.Preset(p).Image with { Size = size }).PatchCount:N0} patches)").ToList();
        return $"preset {spec.Model.Preset} cuts the {size}-pixel images of data.dir '{spec.Data.Dir}' into {config.Image.PatchCount:N0} patches each, " +
               $"{config.Image.PatchCount / sized.PatchCount:N0} times the {sized.PatchCount:N0} it is sized for ({sized.Size}-pixel images), so its steps take far longer; " +
               (advice.Count > 0 ? $"for these images use {string.Join(" or ", advice)}, or " : "") +
               $"build the data set with --image-size {sized.Size} for this preset";
    }

    /// <summary>The configuration for the spec's data set (data.dir): its tokenizer's vocabulary and its image shape.</summary>
    /// <exception cref="SpecException">The preset's patches do not divide the data set's images (named with the presets whose patches do).</exception>
    public static CommerceMMConfig ForData(TrainingSpec spec)
    {
        var manifest = DatasetManifest.Read(DataFolder.Of(spec.Data));
        var config = Create(spec.Model, manifest.Tokenizer.VocabSize, (manifest.Image.Channels, manifest.Image.Width));
        var (size, patch) = (config.Image.Size, config.Image.Patch);
        if (size % patch == 0) return config;
        var fitting = CommerceMMConfig.PresetNames.Where(p => size % CommerceMMConfig.Preset(p).Image.Patch == 0).ToList();
        throw new SpecException("model.preset", $"'{spec.Model.Preset}' cuts images into {patch}-pixel patches, which do not divide the {size}-pixel images in data.dir '{spec.Data.Dir}'; " +
                                                (fitting.Count > 0 ? $"use {string.Join(" or ", fitting)} for this data set" : "no preset fits this data set"));
    }
}
