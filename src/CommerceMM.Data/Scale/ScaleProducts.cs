using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Scale;

/// <summary>
/// Turns a catalog product into one five-modality sample: image = the photo; text = its listing text
/// (CommerceMM's); table = its attributes as key/value pairs; video = a deterministic zoom/rotate/pan
/// path over the photo; audio = the title spoken by espeak-ng as a log-mel spectrogram. Which
/// modalities a product lacks is drawn from (seed, split, index), so it does not depend on the build order.
/// </summary>
public static class ScaleProducts
{
    /// <summary>Stored part names.</summary>
    public const string ImagePart = "jpg", TextPart = "txt", TablePart = "table.json", MelPart = "mel.f32", MetaPart = "json";

    public static string FramePart(int frame) => $"frame{frame.ToString("D2", CultureInfo.InvariantCulture)}.jpg";

    /// <summary>The sample and the lines it adds to the tokenizer corpus.</summary>
    public sealed record Built(ShardSample Sample, IReadOnlyList<string> Present, IReadOnlyList<string> CorpusLines, bool AudioTruncated);

    /// <summary>Attribute key/value pairs, in English (the table modality's "schema").</summary>
    public static IReadOnlyList<(string Key, string Value)> Table(Product p) =>
    [
        ("category", p.Category.English),
        ("brand", p.Brand),
        ("tone", p.Tone.ToString().ToLowerInvariant()),
        ("texture", p.Texture.ToString().ToLowerInvariant()),
        ("silhouette", p.Silhouette.ToString().ToLowerInvariant()),
        ("price band", p.PriceBand.ToString().ToLowerInvariant()),
    ];

    /// <summary>Frame f of F: rotate up to ±12°, zoom in up to 25%, pan up to ±2 px, linearly along the clip.</summary>
    public static IReadOnlyList<GrayImage> Video(GrayImage photo, int frames, DeterministicRandom random)
    {
        double turn = random.NextDouble(-12, 12) * Math.PI / 180, zoom = random.NextDouble(0.1, 0.25);
        double panX = random.NextDouble(-2, 2), panY = random.NextDouble(-2, 2);
        return Enumerable.Range(0, frames).Select(f =>
        {
            double t = frames == 1 ? 0 : (double)f / (frames - 1);
            return ImageAugmenter.Warp(photo, turn * t, 1 - zoom * t, panX * t, panY * t);
        }).ToArray();
    }

    public static Built Build(Product product, ScaleDatasetOptions options, LogMel? mel)
    {
        var random = DeterministicRandom.For(options.Catalog.Seed, (ulong)product.Split, (ulong)product.SourceIndex, 0x5CA1EUL);
        var present = options.Modalities.Where(m => random.NextDouble() >= options.MissingRate(m)).ToList();
        // Audio only for the first AudioLimit products of a split: speech synthesis is the slow part.
        if (product.SourceIndex >= options.AudioLimit || mel is null) present.Remove(Modality.Audio);
        // A product with no modality is no sample: keep the photo (or the first stored modality).
        if (present.Count == 0) present.Add(options.Modalities.Contains(Modality.Image) ? Modality.Image : options.Modalities[0]);

        var codec = JpegCodec.ForCurrentThread;
        int quality = options.Catalog.JpegQuality;
        int variant = random.NextInt(1000);
        string text = FashionSamples.ListingText(product, variant);
        var table = Table(product);
        var parts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int audioFrames = 0;
        bool truncated = false;
        if (present.Contains(Modality.Image)) parts[ImagePart] = codec.EncodeGray(product.Image, quality);
        if (present.Contains(Modality.Text)) parts[TextPart] = Encoding.UTF8.GetBytes(text);
        if (present.Contains(Modality.Table))
            parts[TablePart] = JsonSerializer.SerializeToUtf8Bytes(table.Select(kv => new[] { kv.Key, kv.Value }).ToArray());
        var frames = Video(product.Image, options.VideoFrames, random);   // drawn always, so presence never shifts other draws
        if (present.Contains(Modality.Video))
            for (int f = 0; f < frames.Count; f++) parts[FramePart(f)] = codec.EncodeGray(frames[f], quality);
        if (present.Contains(Modality.Audio))
        {
            string title = CatalogText.Title(product, product.Language, variant);
            var (samples, rate) = SpeechSynthesizer.Speak(title, product.Language.Code());
            if (rate != mel!.SampleRate) throw new InvalidOperationException($"espeak-ng produced {rate} Hz; the mel bank was built for {mel.SampleRate} Hz");
            var (values, count, cut) = mel.Compute(samples);
            parts[MelPart] = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            (audioFrames, truncated) = (count, cut);
        }
        parts[MetaPart] = Metadata(product, present, audioFrames);
        var corpus = new List<string> { text };
        corpus.AddRange(table.Select(kv => $"{kv.Key}: {kv.Value}"));
        return new Built(new ShardSample(product.Id, parts), present, corpus, truncated);
    }

    private static byte[] Metadata(Product p, IReadOnlyList<string> present, int audioFrames)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("product", p.Id);
            json.WriteNumber("category", p.Category.Id);
            json.WriteString("lang", p.Language.Code());
            json.WriteStartArray("modalities");
            foreach (string m in Modality.Known.Where(present.Contains)) json.WriteStringValue(m);
            json.WriteEndArray();
            if (audioFrames > 0) json.WriteNumber("audioFrames", audioFrames);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
