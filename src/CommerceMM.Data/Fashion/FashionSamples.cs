using System.Globalization;
using System.Text;
using System.Text.Json;
using CommerceMM.Data.Format;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Fashion;

/// <summary>
/// Turns a product into stored samples: one pass-1 pair and the three pass-2 pair kinds
/// (query, photo, listing). Every random choice is drawn from (seed, split, source index), so a
/// product's samples do not depend on which other products are built or in which order.
/// </summary>
public static class FashionSamples
{
    /// <summary>The samples and corpus lines one product contributes.</summary>
    public sealed record ProductSamples(ShardSample Pair, IReadOnlyList<ShardSample> Omni, IReadOnlyList<string> CorpusLines);

    /// <summary>The catalog text of a product: its title then its description, in its own language.</summary>
    public static string ListingText(Product p, int variant) =>
        CatalogText.Title(p, p.Language, variant) + ". " + CatalogText.Description(p, p.Language, variant);

    public static ProductSamples Build(Product product, ulong seed, int jpegQuality)
    {
        var codec = JpegCodec.ForCurrentThread;
        var random = DeterministicRandom.For(seed, (ulong)product.Split, (ulong)product.SourceIndex);
        int variant = random.NextInt(1000);
        string text = ListingText(product, variant);
        byte[] jpeg = codec.EncodeGray(product.Image, jpegQuality);
        byte[] textBytes = Encoding.UTF8.GetBytes(text);

        var pair = new ShardSample(product.Id, new Dictionary<string, byte[]>
        {
            ["jpg"] = jpeg,
            ["txt"] = textBytes,
            ["json"] = Metadata(product, null, product.Language),
        });

        // query: text only, in any of the three languages (shoppers search in their own).
        var queryLanguage = (Language)random.NextInt(3);
        string query = CatalogText.Query(product, queryLanguage, random.NextInt(1000));
        // photo: image only, a customer's shot of the product.
        byte[] photo = codec.EncodeGray(ImageAugmenter.Augment(product.Image, ImageAugmenter.Photo, random), jpegQuality);
        // listing: another seller's listing: a milder view and a paraphrased title (another template, maybe another language).
        var listingLanguage = (Language)random.NextInt(3);
        int listingVariant = variant + 1 + random.NextInt(CatalogText.TitleVariants(listingLanguage) - 1);
        string listingText = CatalogText.Title(product, listingLanguage, listingVariant) + ". " + CatalogText.Description(product, listingLanguage, listingVariant);
        byte[] listingImage = codec.EncodeGray(ImageAugmenter.Augment(product.Image, ImageAugmenter.Listing, random), jpegQuality);

        ShardSample Omni(PairKind kind, string suffix, byte[]? srcImage, string? srcText, Language sourceLanguage)
        {
            var parts = new Dictionary<string, byte[]>
            {
                ["tgt.jpg"] = jpeg,
                ["tgt.txt"] = textBytes,
                ["json"] = Metadata(product, kind, sourceLanguage),
            };
            if (srcImage is not null) parts["src.jpg"] = srcImage;
            if (srcText is not null) parts["src.txt"] = Encoding.UTF8.GetBytes(srcText);
            return new ShardSample(product.Id + suffix, parts);
        }

        return new ProductSamples(
            pair,
            [
                Omni(PairKind.Query, "-q", null, query, queryLanguage),
                Omni(PairKind.Photo, "-p", photo, null, product.Language),
                Omni(PairKind.Listing, "-l", listingImage, listingText, listingLanguage),
            ],
            [text, query, listingText]);
    }

    /// <summary>The json part: labels for evaluation and the attributes the text was made from.</summary>
    private static byte[] Metadata(Product p, PairKind? kind, Language language)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (kind is { } k) json.WriteString("kind", k.ToString().ToLowerInvariant());
            json.WriteString("product", p.Id);
            json.WriteNumber("category", p.Category.Id);
            json.WriteString("categoryName", p.Category.English);
            json.WriteString("lang", language.Code());
            json.WriteString("tone", p.Tone.ToString().ToLowerInvariant());
            json.WriteString("texture", p.Texture.ToString().ToLowerInvariant());
            json.WriteString("silhouette", p.Silhouette.ToString().ToLowerInvariant());
            json.WriteString("brand", p.Brand);
            json.WriteString("priceBand", p.PriceBand.ToString().ToLowerInvariant());
            json.WriteString("price", p.Price.ToString("0.00", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
