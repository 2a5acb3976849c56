using System.Text;
using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Loading;

/// <summary>An image (normalised floats) and/or a text (token ids, [CLS]…[SEP], not padded).</summary>
internal readonly record struct DecodedSide(float[]? Pixels, int[]? Tokens);

/// <summary>A decoded sample: for pairs only <see cref="Target"/> is set.</summary>
internal sealed record DecodedSample(string Key, DecodedSide Source, DecodedSide Target, PairKind Kind, int Category);

/// <summary>
/// Turns stored bytes into model inputs, or into a <see cref="SkipReason"/> for a bad sample
/// (truncated JPEG, empty or oversize text, missing modality). Thread-safe.
/// </summary>
internal sealed class SampleDecoder(ImageSpec image, SentencePieceTokenizer tokenizer, int textLength, int maxTextBytes)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The decoded sample, or null with the reason it is bad.</summary>
    public DecodedSample? Decode(ShardSample sample, SampleSchema schema, out SkipReason reason)
    {
        reason = default;
        try
        {
            return schema == SampleSchema.Pair ? DecodePair(sample) : DecodeOmni(sample);
        }
        catch (SkipException skip)
        {
            reason = skip.Reason;
            return null;
        }
    }

    private DecodedSample DecodePair(ShardSample s)
    {
        var meta = Metadata(s);
        var target = new DecodedSide(Image(Required(s, "jpg")), Tokens(Required(s, "txt")));
        return new DecodedSample(s.Key, default, target, PairKind.Listing, Category(meta));
    }

    private DecodedSample DecodeOmni(ShardSample s)
    {
        var meta = Metadata(s);
        if (!meta.TryGetProperty("kind", out var k) || k.ValueKind != JsonValueKind.String || !Enum.TryParse<PairKind>(k.GetString(), ignoreCase: true, out var kind))
            throw new SkipException(SkipReason.BadMetadata);
        // The stored parts must be exactly the modalities the kind promises (MODEL.md §4).
        bool wantsImage = kind is PairKind.Photo or PairKind.Listing;
        bool wantsText = kind is PairKind.Query or PairKind.Listing;
        byte[]? srcJpeg = s.Part("src.jpg"), srcText = s.Part("src.txt");
        if (wantsImage != (srcJpeg is not null) || wantsText != (srcText is not null)) throw new SkipException(SkipReason.MissingModality);
        var source = new DecodedSide(srcJpeg is null ? null : Image(srcJpeg), srcText is null ? null : Tokens(srcText));
        var target = new DecodedSide(Image(Required(s, "tgt.jpg")), Tokens(Required(s, "tgt.txt")));
        return new DecodedSample(s.Key, source, target, kind, Category(meta));
    }

    private static byte[] Required(ShardSample s, string part) => s.Part(part) ?? throw new SkipException(SkipReason.MissingModality);

    private static JsonElement Metadata(ShardSample s)
    {
        byte[]? json = s.Part("json");
        if (json is null) return default;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : throw new SkipException(SkipReason.BadMetadata);
        }
        catch (JsonException) { throw new SkipException(SkipReason.BadMetadata); }
    }

    /// <summary>The category label, or -1 when the metadata has none (users' own data need not).</summary>
    private static int Category(JsonElement meta) =>
        meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("category", out var c) && c.TryGetInt32(out int v) ? v : -1;

    /// <summary>The image as normalised floats, channels first (C, H, W): grey for 1-channel data sets, RGB for 3.</summary>
    /// <exception cref="SkipException">Undecodable, or not the data set's size.</exception>
    internal float[] Image(byte[] jpeg)
    {
        int width, height;
        byte[] interleaved;
        try
        {
            var codec = JpegCodec.ForCurrentThread;
            if (image.Channels == 3) { var rgb = codec.DecodeRgb(jpeg); (width, height, interleaved) = (rgb.Width, rgb.Height, rgb.Pixels); }
            else { var gray = codec.DecodeGray(jpeg); (width, height, interleaved) = (gray.Width, gray.Height, gray.Pixels); }
        }
        catch (ImageException) { throw new SkipException(SkipReason.UndecodableImage); }   // a JpegException, or a header past ImageLimits
        if (width != image.Width || height != image.Height) throw new SkipException(SkipReason.WrongImageSize);
        int channels = image.Channels, plane = width * height;
        var pixels = new float[interleaved.Length];
        float scale = 1f / (255f * image.Std), shift = image.Mean / image.Std;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < channels; c++)
                pixels[c * plane + i] = interleaved[i * channels + c] * scale - shift;
        return pixels;
    }

    /// <summary>[CLS] pieces (cut to fit) [SEP].</summary>
    /// <exception cref="SkipException">Oversize, invalid UTF-8 or empty.</exception>
    internal int[] Tokens(byte[] utf8)
    {
        if (utf8.Length > maxTextBytes) throw new SkipException(SkipReason.OversizeText);
        string text;
        try { text = StrictUtf8.GetString(utf8).Trim(); }
        catch (DecoderFallbackException) { throw new SkipException(SkipReason.InvalidText); }
        if (text.Length == 0) throw new SkipException(SkipReason.EmptyText);
        int[] pieces = tokenizer.Encode(text);
        if (pieces.Length == 0) throw new SkipException(SkipReason.EmptyText);
        int kept = Math.Min(pieces.Length, textLength - 2);
        var ids = new int[kept + 2];
        ids[0] = tokenizer.ClsId;
        pieces.AsSpan(0, kept).CopyTo(ids.AsSpan(1));
        ids[^1] = tokenizer.SepId;
        return ids;
    }
}
