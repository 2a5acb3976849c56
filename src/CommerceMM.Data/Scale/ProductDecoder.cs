using System.Runtime.InteropServices;
using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Scale;

/// <summary>
/// Stored product → <see cref="ProductRow"/>, or a counted skip: unreadable metadata, a listed modality
/// whose part is missing or undecodable, audio or video outside the data set's lengths, or no modality
/// the consumer uses. Images and text go through CommerceMM's decoder, so both models read them alike;
/// log-mel frames are standardised per utterance and band.
/// A table is "key : value ; key : value", each key and each value its own entity. Thread-safe.
/// </summary>
internal sealed class ProductDecoder
{
    private readonly SampleDecoder _common;
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly int _tableLength, _frames, _mels, _maxAudio;
    private readonly HashSet<string> _used;
    private readonly int[] _colon, _semicolon;

    public ProductDecoder(DatasetManifest manifest, SentencePieceTokenizer tokenizer, LoaderOptions options)
    {
        _common = new SampleDecoder(manifest.Image, tokenizer, options.TextLength, options.MaxTextBytes);
        _tokenizer = tokenizer;
        _tableLength = options.TableLength;
        _frames = ScaleShapes.VideoFrames(manifest);
        _mels = ScaleShapes.Mels(manifest);
        _maxAudio = ScaleShapes.MaxAudioFrames(manifest);
        _used = [.. options.Modalities ?? Modality.Known];
        _colon = tokenizer.Encode(":");
        _semicolon = tokenizer.Encode(";");
    }

    public ProductRow? Decode(ShardSample s, out SkipReason reason)
    {
        reason = default;
        try
        {
            return DecodeOrSkip(s);
        }
        catch (SkipException skip)
        {
            reason = skip.Reason;
            return null;
        }
    }

    private ProductRow DecodeOrSkip(ShardSample s)
    {
        var (listed, category) = Metadata(s);
        var present = listed.Where(_used.Contains).ToHashSet();
        if (present.Count == 0) throw new SkipException(SkipReason.NoUsableModality);
        float[]? image = present.Contains(Modality.Image) ? _common.Image(Required(s, ScaleProducts.ImagePart)) : null;
        int[]? text = present.Contains(Modality.Text) ? _common.Tokens(Required(s, ScaleProducts.TextPart)) : null;
        var table = present.Contains(Modality.Table) ? Table(Required(s, ScaleProducts.TablePart)) : null;
        float[]? video = present.Contains(Modality.Video) ? Video(s) : null;
        float[]? audio = null;
        int audioFrames = 0;
        if (present.Contains(Modality.Audio))
        {
            var frames = MemoryMarshal.Cast<byte, float>(Required(s, ScaleProducts.MelPart));
            audioFrames = frames.Length / _mels;
            if (frames.Length % _mels != 0 || audioFrames < 1 || audioFrames > _maxAudio) throw new SkipException(SkipReason.LengthOutOfRange);
            audio = Standardized(frames.ToArray(), audioFrames);
        }
        return new ProductRow(s.Key, category, image, text, table, video, audio, audioFrames);
    }

    /// <summary>
    /// Per-utterance mean and variance normalisation of each mel band (CMVN, standard in speech): raw
    /// log-mels sit far from zero with a spread of several units, so their masked-regression loss was
    /// tens of times the image's and video's and dominated the clipped gradient.
    /// </summary>
    private float[] Standardized(float[] mel, int frames)
    {
        for (int b = 0; b < _mels; b++)
        {
            double sum = 0, squares = 0;
            for (int t = 0; t < frames; t++) sum += mel[t * _mels + b];
            double mean = sum / frames;
            for (int t = 0; t < frames; t++) squares += (mel[t * _mels + b] - mean) * (mel[t * _mels + b] - mean);
            double scale = 1 / Math.Sqrt(squares / frames + 1e-5);
            for (int t = 0; t < frames; t++) mel[t * _mels + b] = (float)((mel[t * _mels + b] - mean) * scale);
        }
        return mel;
    }

    private static (IReadOnlyList<string> Modalities, int Category) Metadata(ShardSample s)
    {
        try
        {
            using var meta = JsonDocument.Parse(Required(s, ScaleProducts.MetaPart));
            var root = meta.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("modalities", out var list) || list.ValueKind != JsonValueKind.Array)
                throw new SkipException(SkipReason.BadMetadata);
            var modalities = list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : "").ToList();
            int category = root.TryGetProperty("category", out var c) && c.TryGetInt32(out int v) ? v : -1;
            return (modalities, category);
        }
        catch (JsonException) { throw new SkipException(SkipReason.BadMetadata); }
    }

    private static byte[] Required(ShardSample s, string part) => s.Part(part) ?? throw new SkipException(SkipReason.MissingModality);

    /// <summary>All frames, or a skip: a clip shorter than the data set's frame count has no place in a fixed-length batch.</summary>
    private float[] Video(ShardSample s)
    {
        if (s.Part(ScaleProducts.FramePart(_frames)) is not null) throw new SkipException(SkipReason.LengthOutOfRange);
        var frames = new List<float[]>(_frames);
        for (int f = 0; f < _frames; f++)
            frames.Add(_common.Image(s.Part(ScaleProducts.FramePart(f)) ?? throw new SkipException(SkipReason.LengthOutOfRange)));
        return [.. frames.SelectMany(x => x)];
    }

    private (int, long)[] Table(byte[] json)
    {
        string[][]? pairs;
        try { pairs = JsonSerializer.Deserialize<string[][]>(json); }
        catch (JsonException) { throw new SkipException(SkipReason.BadMetadata); }
        if (pairs is null || pairs.Length == 0 || pairs.Any(p => p is not { Length: 2 } || p.Any(string.IsNullOrWhiteSpace)))
            throw new SkipException(SkipReason.BadMetadata);
        var tokens = new List<(int, long)> { (_tokenizer.ClsId, -1) };
        for (int j = 0; j < pairs.Length; j++)
        {
            if (j > 0) tokens.AddRange(_semicolon.Select(id => (id, -1L)));
            tokens.AddRange(_tokenizer.Encode(pairs[j][0]).Select(id => (id, 2L * j)));
            tokens.AddRange(_colon.Select(id => (id, -1L)));
            tokens.AddRange(_tokenizer.Encode(pairs[j][1]).Select(id => (id, 2L * j + 1)));
        }
        // Cut to fit, keeping room for [SEP]: a cut entity stays an entity, just shorter.
        if (tokens.Count > _tableLength - 1) tokens.RemoveRange(_tableLength - 1, tokens.Count - (_tableLength - 1));
        tokens.Add((_tokenizer.SepId, -1));
        return [.. tokens];
    }
}
