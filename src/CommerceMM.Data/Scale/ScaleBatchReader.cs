using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;
using CommerceMM.Data.Loading;
using CommerceMM.Data.Text;
using CommerceMM.Torch;

namespace CommerceMM.Data.Scale;

/// <summary>
/// Reads consecutive samples of a SCALE stream into <see cref="ScaleBatch"/>es: JPEGs decoded and
/// normalised, text and table tokenized ([CLS] … [SEP]; a table is "key : value ; key : value" with
/// one entity per key and per value), mel frames padded to the data set's maximum. A simple
/// in-order reader for tests and smoke runs; the resumable sharded loader serves the CommerceMM streams.
/// </summary>
public sealed class ScaleBatchReader : IDisposable
{
    private readonly DatasetManifest _manifest;
    private readonly ShardSet _shards;
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly int _textLength, _tableLength, _frames, _mels, _maxAudio;
    private readonly int[] _colon, _semicolon;

    /// <exception cref="DatasetException">Not a SCALE data set, or no such stream.</exception>
    public ScaleBatchReader(string directory, string stream, int textLength, int tableLength)
    {
        _manifest = DatasetManifest.Read(directory);
        var info = _manifest.Stream(stream);
        if (info.Schema != SampleSchema.Product) throw new DatasetException($"stream '{stream}' holds {info.Schema} samples, not SCALE products");
        _shards = new ShardSet(directory, info, verify: true);
        _tokenizer = SentencePieceTokenizer.Load(Path.Combine(directory, _manifest.Tokenizer.File));
        (_textLength, _tableLength) = (textLength, tableLength);
        _frames = (int)_manifest.Counts["video_frames"];
        _mels = (int)_manifest.Counts["audio_mels"];
        _maxAudio = (int)_manifest.Counts["audio_max_frames"];
        _colon = _tokenizer.Encode(":");
        _semicolon = _tokenizer.Encode(";");
    }

    public DatasetManifest Manifest => _manifest;
    public SentencePieceTokenizer Tokenizer => _tokenizer;
    public int Samples => _shards.Count;
    public int VideoFrames => _frames;
    public int Mels => _mels;
    public int MaxAudioFrames => _maxAudio;

    /// <summary>Samples start .. start + count (wrapping around the stream).</summary>
    public ScaleBatch Read(int start, int count)
    {
        var image = _manifest.Image;
        int pixels = image.Width * image.Height, b = count;
        var present = new bool[b * 5];
        var images = new float[b * pixels];
        var video = new float[b * _frames * pixels];
        var audio = new float[b * _maxAudio * _mels];
        var audioPad = Enumerable.Repeat(true, b * _maxAudio).ToArray();
        var text = new List<int>[b];
        var table = new List<(int Id, long Entity)>[b];
        var keys = new string[b];
        var categories = new long[b];
        for (int r = 0; r < b; r++)
        {
            var s = _shards.Read((start + r) % _shards.Count);
            keys[r] = s.Key;
            using var meta = JsonDocument.Parse(s.Part(ScaleProducts.MetaPart) ?? throw new BadRecordException($"sample '{s.Key}' has no json part"));
            var m = meta.RootElement.GetProperty("modalities").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
            categories[r] = meta.RootElement.TryGetProperty("category", out var c) ? c.GetInt64() : -1;
            for (int i = 0; i < 5; i++) present[r * 5 + i] = m.Contains(Modality.Known[i]);
            if (m.Contains(Modality.Image)) Decode(s.Part(ScaleProducts.ImagePart)!, images, r * pixels);
            if (m.Contains(Modality.Video))
                for (int f = 0; f < _frames; f++) Decode(s.Part(ScaleProducts.FramePart(f))!, video, (r * _frames + f) * pixels);
            if (m.Contains(Modality.Text)) text[r] = Tokens(Encoding.UTF8.GetString(s.Part(ScaleProducts.TextPart)!));
            if (m.Contains(Modality.Table)) table[r] = Table(s.Part(ScaleProducts.TablePart)!);
            if (m.Contains(Modality.Audio))
            {
                var frames = MemoryMarshal.Cast<byte, float>(s.Part(ScaleProducts.MelPart)!);
                int t = frames.Length / _mels;
                if (t < 1 || t > _maxAudio) throw new BadRecordException($"sample '{s.Key}' has {t} audio frames; the data set allows 1..{_maxAudio}");
                frames.CopyTo(audio.AsSpan(r * _maxAudio * _mels));
                Array.Fill(audioPad, false, r * _maxAudio, t);
            }
        }
        var (textIds, textPad, _) = Pack(text.Select(t => t?.Select(id => (id, -1L)).ToList()).ToArray(), _textLength);
        var (tableIds, tablePad, entities) = Pack(table, _tableLength);
        return new ScaleBatch
        {
            Keys = keys,
            Present = Torch.Torch.FromArray(present, b, 5),
            Images = Torch.Torch.FromArray(images, b, 1, image.Height, image.Width),
            TextIds = textIds, TextPadding = textPad,
            TableIds = tableIds, TablePadding = tablePad, TableEntities = entities,
            Video = Torch.Torch.FromArray(video, b, _frames, 1, image.Height, image.Width),
            Audio = Torch.Torch.FromArray(audio, b, _maxAudio, _mels),
            AudioPadding = Torch.Torch.FromArray(audioPad, b, _maxAudio),
            Categories = Torch.Torch.FromArray(categories),
        };
    }

    private void Decode(byte[] jpeg, float[] into, int offset)
    {
        GrayImage decoded = JpegCodec.ForCurrentThread.DecodeGray(jpeg);
        var spec = _manifest.Image;
        float scale = 1f / (255f * spec.Std), shift = spec.Mean / spec.Std;
        for (int i = 0; i < decoded.Pixels.Length; i++) into[offset + i] = decoded.Pixels[i] * scale - shift;
    }

    private List<int> Tokens(string text) => [.. _tokenizer.Encode(text.Trim())];

    /// <summary>key : value ; key : value — each key and each value its own entity, separators none.</summary>
    private List<(int, long)> Table(byte[] json)
    {
        var pairs = JsonSerializer.Deserialize<string[][]>(json) ?? [];
        var tokens = new List<(int, long)>();
        for (int j = 0; j < pairs.Length; j++)
        {
            if (j > 0) tokens.AddRange(_semicolon.Select(id => (id, -1L)));
            tokens.AddRange(_tokenizer.Encode(pairs[j][0]).Select(id => (id, 2L * j)));
            tokens.AddRange(_colon.Select(id => (id, -1L)));
            tokens.AddRange(_tokenizer.Encode(pairs[j][1]).Select(id => (id, 2L * j + 1)));
        }
        return tokens;
    }

    /// <summary>[CLS] tokens (cut to fit) [SEP] then padding; rows without the modality are all padding.</summary>
    private (Tensor Ids, Tensor Padding, Tensor Entities) Pack(List<(int Id, long Entity)>?[] rows, int length)
    {
        int b = rows.Length;
        var ids = Enumerable.Repeat((long)_tokenizer.PadId, b * length).ToArray();
        var pad = Enumerable.Repeat(true, b * length).ToArray();
        var entity = Enumerable.Repeat(-1L, b * length).ToArray();
        for (int r = 0; r < b; r++)
        {
            if (rows[r] is not { } tokens) continue;
            int kept = Math.Min(tokens.Count, length - 2), o = r * length;
            ids[o] = _tokenizer.ClsId;
            for (int i = 0; i < kept; i++) (ids[o + 1 + i], entity[o + 1 + i]) = (tokens[i].Id, tokens[i].Entity);
            ids[o + kept + 1] = _tokenizer.SepId;
            Array.Fill(pad, false, o, kept + 2);
        }
        return (Torch.Torch.FromArray(ids, b, length), Torch.Torch.FromArray(pad, b, length), Torch.Torch.FromArray(entity, b, length));
    }

    public void Dispose()
    {
        _shards.Dispose();
        _tokenizer.Dispose();
    }
}
