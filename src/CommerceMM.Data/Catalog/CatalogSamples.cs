using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// Turns one catalog product into stored samples: its pass-1 pair (image + title and description) and one pass-2
/// sample per query, photo and listing, each with the product as the target. Every image is read in any of
/// <see cref="ImageFile.Formats"/>, resized and centre-cropped to the data set's square, and stored as JPEG.
/// </summary>
internal static class CatalogSamples
{
    /// <summary>The longest product id used as its sample key as it is; longer or unusual ids get a hash.</summary>
    private const int MaxPlainKey = 56;

    /// <param name="Pair">null when the product itself could not be used (<see cref="Problems"/> says why)</param>
    /// <param name="PixelSum">sum and sum of squares of the stored product image's values (0..1), and their count, for the data set's normalisation</param>
    public sealed record Built(ShardSample? Pair, IReadOnlyList<ShardSample> Omni, IReadOnlyList<string> CorpusLines,
                               IReadOnlyList<CatalogProblem> Problems, (double Sum, double Squares, long Count) PixelSum, int Queries, int Photos, int Listings);

    /// <summary>
    /// The product's sample key: its id when that is a short run of ASCII letters, digits, '-' and '_' (tar entry names
    /// and <see cref="ShardSample"/> allow no more), else "x" and a hash of the id. The id itself is kept in the json part.
    /// </summary>
    public static string Key(string id)
    {
        bool plain = id.Length <= MaxPlainKey && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
        return plain ? id : "x" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..24];
    }

    public static Built Build(CatalogProduct p, int? category, CatalogDatasetOptions o, SquareImageCache cache)
    {
        var problems = new List<CatalogProblem>();
        string key = Key(p.Id);
        if (!TryImage(p.Image, o, cache, out byte[]? jpeg, out string? why))
        {
            problems.Add(new CatalogProblem(p.Line, p.Id, "product", $"image {why}"));
            return new Built(null, [], [], problems, default, 0, 0, 0);
        }
        byte[] text = Encoding.UTF8.GetBytes(p.Text);
        var pair = new ShardSample(key, new Dictionary<string, byte[]> { ["jpg"] = jpeg!, ["txt"] = text, ["json"] = Metadata(p, category, null) });

        var omni = new List<ShardSample>();
        var corpus = new List<string> { p.Text };
        ShardSample Omni(PairKind kind, string suffix, byte[]? sourceImage, string? sourceText)
        {
            var parts = new Dictionary<string, byte[]> { ["tgt.jpg"] = jpeg!, ["tgt.txt"] = text, ["json"] = Metadata(p, category, kind) };
            if (sourceImage is not null) parts["src.jpg"] = sourceImage;
            if (sourceText is not null) parts["src.txt"] = Encoding.UTF8.GetBytes(sourceText);
            return new ShardSample(key + suffix, parts);
        }
        for (int i = 0; i < p.Queries.Count; i++)
        {
            omni.Add(Omni(PairKind.Query, $"-q{i}", null, p.Queries[i]));
            corpus.Add(p.Queries[i]);
        }
        int photos = 0, listings = 0;
        for (int i = 0; i < p.Photos.Count; i++)
        {
            if (TryImage(p.Photos[i], o, cache, out byte[]? photo, out why)) { omni.Add(Omni(PairKind.Photo, $"-p{i}", photo, null)); photos++; }
            else problems.Add(new CatalogProblem(p.Line, p.Id, $"photo {i + 1}", why!));
        }
        for (int i = 0; i < p.Listings.Count; i++)
        {
            var listing = p.Listings[i];
            if (TryImage(listing.Image, o, cache, out byte[]? image, out why))
            {
                omni.Add(Omni(PairKind.Listing, $"-l{i}", image, listing.Text));
                corpus.Add(listing.Text);
                listings++;
            }
            else problems.Add(new CatalogProblem(p.Line, p.Id, $"listing {i + 1}", $"image {why}"));
        }
        // Only the product's own image sets the data set's normalisation; users' photos and listings do not.
        return new Built(pair, omni, corpus, problems, StoredSums(jpeg!, o), p.Queries.Count, photos, listings);
    }

    /// <summary>The file as the data set's square JPEG (from the cache when an earlier build made it), or why it cannot be (naming the file).</summary>
    private static bool TryImage(string path, CatalogDatasetOptions o, SquareImageCache cache, out byte[]? jpeg, out string? why)
    {
        (jpeg, why) = (null, null);
        if (CatalogReader.IsUrl(path))
        {
            why = $"'{path}' is a URL; the build reads files: download the photos first (`cmm data download CATALOG --out DIR`, then build from DIR/catalog.jsonl)";
            return false;
        }
        string? failure = null;
        jpeg = cache.GetOrAdd(path, () =>
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(path); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                failure = $"'{path}' does not exist";
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failure = $"'{path}' cannot be read: {e.Message}";
                return null;
            }
            RgbImage square;
            try { square = SquareCrop.Apply(ImageFile.Decode(bytes, atLeast: o.ImageSize), o.ImageSize); }
            catch (ImageException e)
            {
                failure = $"'{path}' is not a readable {ImageFile.Formats} image: {e.Message}";
                return null;
            }
            var codec = JpegCodec.ForCurrentThread;
            return o.Channels == 3 ? codec.EncodeRgb(square, o.JpegQuality) : codec.EncodeGray(square.ToGray(), o.JpegQuality);
        });
        if (jpeg is null)
        {
            why = failure;
            return false;
        }
        return true;
    }

    /// <summary>Sums over the stored square's decoded values: the same whether it came from the cache or not.</summary>
    private static (double, double, long) StoredSums(byte[] jpeg, CatalogDatasetOptions o)
    {
        var decoder = JpegCodec.ForCurrentThread;
        return Sums(o.Channels == 3 ? decoder.DecodeRgb(jpeg).Pixels : decoder.DecodeGray(jpeg).Pixels);
    }

    private static (double, double, long) Sums(byte[] values)
    {
        double sum = 0, squares = 0;
        foreach (byte b in values)
        {
            double v = b / 255.0;
            sum += v;
            squares += v * v;
        }
        return (sum, squares, values.Length);
    }

    private static byte[] Metadata(CatalogProduct p, int? category, PairKind? kind)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (kind is { } k) json.WriteString("kind", k.ToString().ToLowerInvariant());
            json.WriteString("product", p.Id);
            if (category is { } c)
            {
                json.WriteNumber("category", c);
                json.WriteString("categoryName", p.Category);
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
