using CommerceMM.Data.Scale;
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
    public static ScaleConfig ForData(ScaleConfig config, ScaleBatchReader reader)
    {
        var t = reader.Tokenizer;
        var image = reader.Manifest.Image;
        return (config with
        {
            Text = config.Text with { VocabSize = t.VocabSize, PadId = t.PadId, ClsId = t.ClsId, SepId = t.SepId, MaskId = t.MaskId },
            Image = config.Image with { Size = image.Width, Channels = image.Channels },
            Video = config.Video with { Frames = reader.VideoFrames, Size = image.Width, Channels = image.Channels },
            Audio = config.Audio with { Mels = reader.Mels, MaxFrames = reader.MaxAudioFrames },
        }).Validate();
    }
}
