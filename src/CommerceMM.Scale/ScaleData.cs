using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Data.Text;
using CommerceMM.Scale.Config;

namespace CommerceMM.Scale;

/// <summary>Joins the SCALE data sets to the model: batch → inputs, and the shapes a data set fixes.</summary>
public static class ScaleData
{
    /// <summary>The model's view of a loaded batch (shares its tensors: dispose the batch, not the inputs).</summary>
    public static ScaleInputs Inputs(ScaleBatch batch) => new()
    {
        Present = batch.Present,
        Images = batch.Images,
        TextIds = batch.TextIds, TextPadding = batch.TextPadding,
        TableIds = batch.TableIds, TablePadding = batch.TablePadding, TableEntities = batch.TableEntities,
        Video = batch.Video,
        Audio = batch.Audio, AudioPadding = batch.AudioPadding,
    };

    /// <summary>A config whose vocabulary, special ids, frame count, mels and audio length match the data set.</summary>
    public static ScaleConfig ForData(ScaleConfig config, ScaleBatchReader reader) => ForData(config, reader.Manifest, reader.Tokenizer);

    /// <inheritdoc cref="ForData(ScaleConfig, ScaleBatchReader)"/>
    public static ScaleConfig ForData(ScaleConfig config, DatasetManifest manifest, SentencePieceTokenizer t)
    {
        var image = manifest.Image;
        return (config with
        {
            Text = config.Text with { VocabSize = t.VocabSize, PadId = t.PadId, ClsId = t.ClsId, SepId = t.SepId, MaskId = t.MaskId },
            Image = config.Image with { Size = image.Width, Channels = image.Channels },
            Video = config.Video with { Frames = ScaleShapes.VideoFrames(manifest), Size = image.Width, Channels = image.Channels },
            Audio = config.Audio with { Mels = ScaleShapes.Mels(manifest), MaxFrames = ScaleShapes.MaxAudioFrames(manifest) },
        }).Validate();
    }
}
