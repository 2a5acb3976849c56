using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Data.Scale;

/// <summary>Packs decoded products into a <see cref="ScaleBatch"/> on the host: absent modalities are zeros or all padding.</summary>
internal sealed class ProductCollator(DatasetManifest manifest, int textLength, int tableLength, long padId)
{
    private readonly ImageSpec _image = manifest.Image;
    private readonly int _frames = ScaleShapes.VideoFrames(manifest), _mels = ScaleShapes.Mels(manifest);

    public ScaleBatch Collate(IReadOnlyList<ProductRow> rows, long epoch, long step, LoaderPosition position)
    {
        int b = rows.Count, pixels = _image.Channels * _image.Width * _image.Height;
        // Audio is padded to the batch's longest utterance, not the data set's maximum: most products have
        // none, and every padded frame still costs the audio encoder and the fusion's attention.
        int t = Math.Max(1, rows.Select(r => r.AudioFrames).DefaultIfEmpty(0).Max());
        var present = new bool[b * Modality.Known.Count];
        var images = new float[b * pixels];
        var video = new float[b * _frames * pixels];
        var audio = new float[b * t * _mels];
        var audioPad = Enumerable.Repeat(true, b * t).ToArray();
        for (int r = 0; r < b; r++)
        {
            var row = rows[r];
            bool[] has = [row.Image is not null, row.Text is not null, row.Table is not null, row.Video is not null, row.Audio is not null];
            has.CopyTo(present, r * has.Length);
            row.Image?.CopyTo(images, r * pixels);
            row.Video?.CopyTo(video, r * _frames * pixels);
            row.Audio?.CopyTo(audio, r * t * _mels);
            Array.Fill(audioPad, false, r * t, row.AudioFrames);
        }
        var (textIds, textPad, _) = Pack(rows.Select(r => r.Text?.Select(id => (id, -1L)).ToArray()).ToArray(), textLength);
        var (tableIds, tablePad, entities) = Pack(rows.Select(r => r.Table).ToArray(), tableLength);
        return new ScaleBatch(rows.Select(r => r.Key).ToArray(), epoch, step, position)
        {
            Present = torch.tensor(present, [b, Modality.Known.Count], device: CPU),
            Images = torch.tensor(images, [b, _image.Channels, _image.Height, _image.Width], device: CPU),
            TextIds = textIds, TextPadding = textPad,
            TableIds = tableIds, TablePadding = tablePad, TableEntities = entities,
            Video = torch.tensor(video, [b, _frames, _image.Channels, _image.Height, _image.Width], device: CPU),
            Audio = torch.tensor(audio, [b, t, _mels], device: CPU),
            AudioPadding = torch.tensor(audioPad, [b, t], device: CPU),
            Categories = torch.tensor(rows.Select(r => (long)r.Category).ToArray(), [b], device: CPU),
        };
    }

    /// <summary>Rows of [CLS] … [SEP] padded to <paramref name="length"/>; a row without the modality is all padding.</summary>
    private (Tensor Ids, Tensor Padding, Tensor Entities) Pack((int Id, long Entity)[]?[] rows, int length)
    {
        int b = rows.Length;
        var ids = Enumerable.Repeat(padId, b * length).ToArray();
        var pad = Enumerable.Repeat(true, b * length).ToArray();
        var entity = Enumerable.Repeat(-1L, b * length).ToArray();
        for (int r = 0; r < b; r++)
        {
            if (rows[r] is not { } tokens) continue;
            for (int i = 0; i < tokens.Length; i++) (ids[r * length + i], entity[r * length + i], pad[r * length + i]) = (tokens[i].Id, tokens[i].Entity, false);
        }
        return (torch.tensor(ids, [b, length], device: CPU), torch.tensor(pad, [b, length], device: CPU), torch.tensor(entity, [b, length], device: CPU));
    }
}
