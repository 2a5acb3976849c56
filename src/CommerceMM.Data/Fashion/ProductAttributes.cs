using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Fashion;

/// <summary>Derives a product's attributes from its photo: a pure function of pixels and class.</summary>
public static class ProductAttributes
{
    /// <summary>Pixels at or above this value count as the item; below it is background.</summary>
    public const int InkThreshold = 32;

    /// <summary>Invented brands; index / 4 is the brand's tier (budget, mid-range, premium).</summary>
    public static readonly IReadOnlyList<string> Brands =
    [
        "Nordvik", "Basilo", "Tramonte", "Kiwa",
        "Alba Rosa", "Feldhaus", "Marlow", "Sendero",
        "Ostrava", "Lumen & Co", "Vellutto", "Hohenfels",
    ];

    public static Product Derive(string id, FashionSplit split, int sourceIndex, GrayImage image, int label)
    {
        var category = FashionCategory.Get(label);
        var (ink, texture, area) = Measure(image);
        ulong contentHash = PixelHash(image);
        int brandIndex = (int)(contentHash % (ulong)Brands.Count);
        var textureClass = Bucket(texture, category.TextureCuts, Texture.Plain, Texture.Textured, Texture.Patterned);
        decimal price = Price(category, brandIndex / 4, textureClass, contentHash);
        return new Product(
            id, split, sourceIndex, category, image,
            Tone: Bucket(ink, category.InkCuts, Tone.Light, Tone.Medium, Tone.Dark),
            Texture: textureClass,
            Silhouette: Bucket(area, category.AreaCuts, Silhouette.Slim, Silhouette.Regular, Silhouette.Oversized),
            Brand: Brands[brandIndex],
            PriceBand: price < category.BasePrice * 0.9m ? PriceBand.Budget : price > category.BasePrice * 1.3m ? PriceBand.Premium : PriceBand.MidRange,
            Price: price,
            Language: (Language)((contentHash >> 20) % 3));
    }

    /// <summary>Mean ink of item pixels, mean absolute gradient between neighbouring item pixels, item area.</summary>
    public static (double Ink, double Texture, int Area) Measure(GrayImage image)
    {
        long inkSum = 0, gradientSum = 0;
        int area = 0, pairs = 0;
        int w = image.Width;
        byte[] p = image.Pixels;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int v = p[y * w + x];
                if (v < InkThreshold) continue;
                area++;
                inkSum += v;
                if (x + 1 < w && p[y * w + x + 1] >= InkThreshold) { gradientSum += Math.Abs(v - p[y * w + x + 1]); pairs++; }
                if (y + 1 < image.Height && p[(y + 1) * w + x] >= InkThreshold) { gradientSum += Math.Abs(v - p[(y + 1) * w + x]); pairs++; }
            }
        }
        return (area == 0 ? 0 : (double)inkSum / area, pairs == 0 ? 0 : (double)gradientSum / pairs, area);
    }

    /// <summary>FNV-1a over the pixels: brand and price jitter follow the photo, not its position in the file.</summary>
    public static ulong PixelHash(GrayImage image)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in image.Pixels) h = (h ^ b) * 0x100000001B3UL;
        return DeterministicRandom.Hash(h);
    }

    private static T Bucket<T>(double value, (double Low, double High) cuts, T low, T mid, T high) =>
        value < cuts.Low ? low : value < cuts.High ? mid : high;

    private static decimal Price(FashionCategory category, int tier, Texture texture, ulong hash)
    {
        double factor = tier switch { 0 => 0.7, 1 => 1.0, _ => 1.5 };
        if (texture == Texture.Patterned) factor *= 1.1;
        factor *= 0.9 + 0.2 * ((hash >> 40) % 1000) / 1000.0; // ±10% jitter
        decimal raw = category.BasePrice * (decimal)factor;
        return Math.Max(4.99m, Math.Floor(raw) + 0.99m); // shop prices end in .99
    }
}
