using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Data.Text;
using CommerceMM.Scale;
using CommerceMM.Scale.Config;
using CommerceMM.Worker.DataSets;

namespace CommerceMM.Worker.Spec;

/// <summary>The SCALE configuration a spec describes (<c>model.kind: scale</c>), fitted to its data set.</summary>
public static class ScaleConfigFactory
{
    /// <summary>The spec's config before the data set is known (for validation at load).</summary>
    /// <exception cref="SpecException">A bad model key, named.</exception>
    public static ScaleConfig Create(ModelSection model)
    {
        var errors = new SpecErrors();
        if (!string.Equals(model.Preset, "tiny", StringComparison.OrdinalIgnoreCase))
            errors.Add("model.preset", $"'{model.Preset}': SCALE has only the tiny preset (d=128, one layer per encoder)");
        if (model.Allocations.Count > 0)
            errors.Add("model.allocations", "modality randomization is CommerceMM's; remove model.allocations for kind scale (model.modalities picks SCALE's inputs)");
        if (model.Prototypes is not null)
            errors.Add("model.prototypes", "MIM prototypes are CommerceMM's; remove model.prototypes for kind scale");
        var modalities = new List<ScaleModality>();
        foreach (string name in model.Modalities)
        {
            try { modalities.Add(ScaleModalities.Parse(name)); }
            catch (ArgumentException e) { errors.Add("model.modalities", e.Message); }
        }
        // The config below is built from these values: its own checks would only echo a problem already listed.
        errors.ThrowIfAny();
        var tiny = ScaleConfig.Tiny();
        var config = tiny with
        {
            TaskWeights = model.TaskWeights,
            Dropout = model.Dropout ?? tiny.Dropout,
            Modalities = modalities.Count > 0 ? modalities : tiny.Modalities,
            MaskedWeightGradient = model.MaskedWeightGradient ?? tiny.MaskedWeightGradient,
        };
        ConfigErrors.AsSpecErrors(() => config.Validate());
        return config;
    }

    /// <summary>The config fitted to the spec's data set: vocabulary, special ids, image, video and audio shapes.</summary>
    /// <exception cref="SpecException">The data set is not a SCALE one, or lacks an enabled modality altogether.</exception>
    public static ScaleConfig ForData(TrainingSpec spec)
    {
        var config = Create(spec.Model);
        string folder = DataFolder.Of(spec.Data);
        var manifest = DatasetManifest.Read(folder);
        if (!manifest.Streams.ContainsKey(StreamNames.Products))
            throw new SpecException("data.dir", $"'{spec.Data.Dir}' holds the '{manifest.Name}' data set, which has no SCALE products; build one with `cmm data build fashion --modalities image,text,table,video,audio --out DIR`");
        foreach (var m in config.Modalities)
            if (ScaleShapes.Having(manifest, "train", m.Name()) == 0)
                throw new SpecException("model.modalities",
                    $"'{m.Name()}' is enabled but no training product in '{spec.Data.Dir}' has it (the data set has: {string.Join(", ", manifest.Modalities)}); remove it from model.modalities or rebuild the data with it");
        using var tokenizer = SentencePieceTokenizer.Load(Path.Combine(folder, manifest.Tokenizer.File));
        return ScaleData.ForData(config, manifest, tokenizer);
    }
}
