using System.Text.Json;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// A user's catalog as `cmm data build catalog` reads it, made from real Fashion-MNIST product photos: each photo enlarged
/// to 84×56 (not square, so the crop matters) and coloured by its category, saved as JPEG, PNG or WebP in turn. Every
/// product has a title and description, a query, a user's photo (the photo mirrored) and, every third one, another
/// listing; every tenth is held out ("split": "eval") and has no photo; all have a field the build does not read.
/// </summary>
internal static class TestCatalog
{
    public const string FileName = "catalog.jsonl";

    private static readonly (byte R, byte G, byte B)[] Colours =
        [(200, 40, 40), (40, 160, 60), (40, 70, 200), (220, 180, 30), (150, 60, 170), (30, 170, 170), (120, 80, 40), (90, 90, 90), (230, 120, 160), (20, 20, 60)];

    /// <summary>Writes <paramref name="products"/> products under <paramref name="folder"/>; returns the catalog file's path.</summary>
    /// <param name="extraLines">lines appended as they are (bad rows, for tests of what the build leaves out)</param>
    public static string Write(string folder, int products, params string[] extraLines)
    {
        var photos = FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Train, products);
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        Directory.CreateDirectory(Path.Combine(folder, "ugc"));
        var lines = new List<string>();
        for (int i = 0; i < photos.Count; i++)
        {
            var (photo, label) = photos[i];
            var category = FashionCategory.All[label];
            var image = Coloured(photo, Colours[label], mirrored: false);
            string extension = (i % 3) switch { 0 => "jpg", 1 => "png", _ => "webp" };
            string file = $"images/p{i}.{extension}", ugc = $"ugc/p{i}.jpg";
            Save(Path.Combine(folder, file), image);
            ImageWriters.Jpeg(Path.Combine(folder, ugc), Coloured(photo, Colours[label], mirrored: true));
            var product = new Dictionary<string, object>
            {
                ["id"] = $"sku-{i:D4}",
                ["title"] = $"{category.English} no. {i}",
                ["description"] = $"A {category.English.ToLowerInvariant()} in colour {label}, from the test catalog.",
                ["image"] = file,
                ["category"] = category.English,
                ["queries"] = new[] { $"{category.English.ToLowerInvariant()} colour {label}" },
                ["price"] = 10 + i,
            };
            // The held-out products have queries but no users' photos, so `cmm eval` meets a catalog without them.
            if (i % 10 == 9) product["split"] = "eval";
            else product["photos"] = new[] { ugc };
            if (i % 3 == 0) product["listings"] = new[] { new { text = $"Another {category.English.ToLowerInvariant()} listing", image = ugc } };
            lines.Add(JsonSerializer.Serialize(product));
        }
        lines.AddRange(extraLines);
        string path = Path.Combine(folder, FileName);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>The RGB the builder should store for a pixel of the given ink (0..1) in the category's colour.</summary>
    public static float[] Colour(int label, float ink) =>
        [255 - ink * (255 - Colours[label].R), 255 - ink * (255 - Colours[label].G), 255 - ink * (255 - Colours[label].B)];

    private static void Save(string path, RgbImage image)
    {
        switch (Path.GetExtension(path))
        {
            case ".png": ImageWriters.Png(path, image); break;
            case ".webp": ImageWriters.Webp(path, image); break;
            default: ImageWriters.Jpeg(path, image); break;
        }
    }

    /// <summary>The photo at 3× width and 2× height, ink in the category's colour on white.</summary>
    private static RgbImage Coloured(GrayImage photo, (byte R, byte G, byte B) colour, bool mirrored)
    {
        int w = photo.Width * 3, h = photo.Height * 2;
        var pixels = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sx = x / 3;
                float ink = photo[mirrored ? photo.Width - 1 - sx : sx, y / 2] / 255f;
                int at = (y * w + x) * 3;
                pixels[at] = (byte)(255 - ink * (255 - colour.R));
                pixels[at + 1] = (byte)(255 - ink * (255 - colour.G));
                pixels[at + 2] = (byte)(255 - ink * (255 - colour.B));
            }
        return new RgbImage(w, h, pixels);
    }
}
