using System.Globalization;
using System.Text;
using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;
using CommerceMM.Data.Text;

namespace CommerceMM.Cli.Inspection;

/// <summary>
/// One stored sample, decoded as the loader would see it: which modalities it holds, each image's size (the JPEG
/// actually decoded), each text with its token count under the data set's tokenizer, a table's pairs, an audio
/// clip's frames, and the labels in its json part. Part names are the builders' (FashionSamples, ScaleProducts).
/// </summary>
internal static class SampleSummary
{
    private const int MaxText = 90;

    public static IReadOnlyList<string> Modalities(ShardSample sample)
    {
        var present = new List<string>();
        var parts = sample.Parts.Keys.ToList();
        if (parts.Any(p => p is "jpg" or "src.jpg" or "tgt.jpg")) present.Add(Modality.Image);
        if (parts.Any(p => p.EndsWith("txt", StringComparison.Ordinal))) present.Add(Modality.Text);
        if (parts.Contains("table.json")) present.Add(Modality.Table);
        if (parts.Any(p => p.StartsWith("frame", StringComparison.Ordinal))) present.Add(Modality.Video);
        if (parts.Contains("mel.f32")) present.Add(Modality.Audio);
        return present;
    }

    private static IEnumerable<string> SideModalities(ShardSample sample, string side)
    {
        if (sample.Parts.ContainsKey(side + "jpg")) yield return Modality.Image;
        if (sample.Parts.ContainsKey(side + "txt")) yield return Modality.Text;
    }

    /// <summary>Lines describing the sample, the first naming its key and modalities.</summary>
    public static IReadOnlyList<string> Describe(ShardSample sample, SentencePieceTokenizer? tokenizer, int melBands)
    {
        // An omni sample pairs a source (text, image or both) with a target product: say which side holds what.
        string modalities = sample.Parts.ContainsKey("tgt.jpg")
            ? $"source {string.Join("+", SideModalities(sample, "src."))} -> target {string.Join("+", SideModalities(sample, "tgt."))}"
            : string.Join(", ", Modalities(sample));
        var lines = new List<string> { $"{sample.Key}: {modalities}" };
        var frames = new List<string>();
        foreach (var (part, bytes) in sample.Parts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (part.StartsWith("frame", StringComparison.Ordinal))
            {
                frames.Add(Image(bytes));
                continue;
            }
            string? line = part switch
            {
                _ when part.EndsWith("jpg", StringComparison.Ordinal) => $"{part}: image {Image(bytes)}",
                _ when part.EndsWith("txt", StringComparison.Ordinal) => $"{part}: {Text(bytes, tokenizer)}",
                "table.json" => $"{part}: {Table(bytes)}",
                "mel.f32" => $"{part}: audio, {bytes.Length / sizeof(float) / Math.Max(1, melBands)} frames x {melBands} mel bands",
                "json" => $"labels: {Labels(bytes)}",
                _ => $"{part}: {bytes.Length:N0} bytes",
            };
            lines.Add(line);
        }
        if (frames.Count > 0) lines.Add($"video: {frames.Count} frames, {string.Join(", ", frames.Distinct())}");
        return lines;
    }

    private static string Image(byte[] jpeg)
    {
        try
        {
            var image = JpegCodec.ForCurrentThread.DecodeGray(jpeg);
            return $"{image.Width}x{image.Height}";
        }
        catch (ImageException e)
        {
            return $"UNREADABLE ({e.Message})";
        }
    }

    private static string Text(byte[] utf8, SentencePieceTokenizer? tokenizer)
    {
        string text = Encoding.UTF8.GetString(utf8).ReplaceLineEndings(" ");
        string shown = text.Length <= MaxText ? text : text[..MaxText] + "…";
        return tokenizer is null ? $"\"{shown}\"" : $"\"{shown}\" ({tokenizer.Encode(text).Length} tokens)";
    }

    private static string Table(byte[] json)
    {
        try
        {
            var pairs = JsonSerializer.Deserialize<string[][]>(json) ?? [];
            return string.Join(", ", pairs.Where(p => p.Length == 2).Select(p => $"{p[0]}={p[1]}"));
        }
        catch (JsonException e)
        {
            return $"UNREADABLE ({e.Message})";
        }
    }

    /// <summary>The json part's scalar fields, e.g. <c>category=3 categoryName=dress lang=de</c>.</summary>
    private static string Labels(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return string.Join(" ", document.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                .Select(p => $"{p.Name}={(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}"));
        }
        catch (JsonException e)
        {
            return $"UNREADABLE ({e.Message})";
        }
    }

    internal static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
