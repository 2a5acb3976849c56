using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CommerceMM.Cli.Inspection;
using CommerceMM.Data;
using CommerceMM.Data.Catalog;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench catalog`: what `cmm data build catalog` costs per product photo of camera size, and the choice that sets
/// it: decoding the JPEG at the smallest of libjpeg's M/8 scales that still covers the square (the reference in the
/// same process decodes at full size, then resizes the same way). Then whole builds: products per second on every core.
/// The photos are real Fashion-MNIST products enlarged to the size given, coloured, with a little sensor noise so their
/// JPEGs weigh what a camera's do.
/// </summary>
internal static class CatalogBenchmark
{
    public static Command CreateCommand()
    {
        var photos = new Option<int>("--photos") { Description = "product photos to make and build", DefaultValueFactory = _ => 96 };
        var size = new Option<string>("--photo-size") { Description = "WIDTHxHEIGHT of each photo", DefaultValueFactory = _ => "1600x1200" };
        var side = new Option<int>("--image-size") { Description = "the data set's square side", DefaultValueFactory = _ => CatalogDatasetOptions.DefaultImageSize };
        var rounds = new Option<int>("--rounds") { Description = "whole builds; the figure is their median", DefaultValueFactory = _ => 3 };
        var command = new Command("catalog", "cmm data build catalog's cost per camera-size JPEG (decode at a reduced scale vs at full size, then resize, crop and encode) and products/s of whole builds.")
            { photos, size, side, rounds };
        command.SetAction(async (r, ct) =>
        {
            Commands.CommonOptions.RequireAtLeast(1, ("--photos", r.GetValue(photos)), ("--rounds", r.GetValue(rounds)));
            string[] wh = r.GetValue(size)!.Split('x');
            if (wh.Length != 2 || !int.TryParse(wh[0], CultureInfo.InvariantCulture, out int width) || !int.TryParse(wh[1], CultureInfo.InvariantCulture, out int height)
                || width < 8 || height < 8 || (long)width * height > ImageLimits.MaxPixels)
                throw new ArgumentException($"--photo-size '{r.GetValue(size)}' is not WIDTHxHEIGHT of at least 8x8 and at most {ImageLimits.MaxPixels / 1e6:0.0} megapixels, e.g. 1600x1200");
            await RunAsync(r.GetValue(photos), width, height, r.GetValue(side), r.GetValue(rounds), ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static async Task RunAsync(int count, int width, int height, int side, int rounds, CancellationToken ct)
    {
        string folder = Directory.CreateTempSubdirectory("cmm-bench-catalog-").FullName;
        try
        {
            Console.WriteLine($"cmm bench catalog: {count} JPEG photos of {width}x{height} to {side}x{side}; {Environment.ProcessorCount} cores");
            var files = WritePhotos(folder, count, width, height);
            long bytes = files.Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"photos: {Sizes.Format(bytes)} ({Sizes.Format(bytes / count)} each)");

            var jpegs = files.Select(File.ReadAllBytes).ToList();
            var codec = JpegCodec.ForCurrentThread;
            var medians = PerPhoto(jpegs,
                j => SquareCrop.Apply(codec.DecodeRgb(j), side),
                j => SquareCrop.Apply(ImageFile.Decode(j, atLeast: side), side),
                j => codec.EncodeRgb(SquareCrop.Apply(ImageFile.Decode(j, atLeast: side), side), CatalogDatasetOptions.DefaultJpegQuality));
            var (full, scaled, product) = (medians[0], medians[1], medians[2]);
            Console.WriteLine($"{"one thread, per photo",-44} {"ms",8}");
            Console.WriteLine($"{"decode at full size, resize and crop (ref)",-44} {full * 1e3,8:F2}");
            Console.WriteLine($"{"decode at M/8 scale, resize and crop",-44} {scaled * 1e3,8:F2}   {full / scaled:F1}x faster");
            Console.WriteLine($"{"  ... and encode the square (as built)",-44} {product * 1e3,8:F2}");

            var seconds = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                await CatalogDatasetBuilder.BuildAsync(new CatalogDatasetOptions
                {
                    CatalogFile = Path.Combine(folder, "catalog.jsonl"), OutputDirectory = Path.Combine(folder, $"out-{round}"), ImageSize = side, VocabSize = 200,
                }, cancellationToken: ct).ConfigureAwait(false);
                seconds.Add(clock.Elapsed.TotalSeconds);
            }
            double median = Measure.Median(seconds);
            Console.WriteLine($"whole build on {Environment.ProcessorCount} cores (tokenizer included): {count / median:F1} products/s, {bytes / median / 1e6:F1} MB/s of photos (median of {rounds})");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Median seconds per photo of each way, over every photo, after a warm-up. The ways take turns on each photo, so a
    /// burst of load from elsewhere falls on all of them alike.
    /// </summary>
    private static double[] PerPhoto(IReadOnlyList<byte[]> jpegs, params Action<byte[]>[] ways)
    {
        foreach (var way in ways) foreach (var j in jpegs.Take(4)) way(j);
        var seconds = ways.Select(_ => new List<double>()).ToArray();
        foreach (var j in jpegs)
            for (int w = 0; w < ways.Length; w++)
            {
                long start = Stopwatch.GetTimestamp();
                ways[w](j);
                seconds[w].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        return seconds.Select(Measure.Median).ToArray();
    }

    private static List<string> WritePhotos(string folder, int count, int width, int height)
    {
        var sources = FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Train, count);
        var random = DeterministicRandom.For(7, 0, 0);
        var files = new List<string>();
        using var catalog = new StreamWriter(Path.Combine(folder, "catalog.jsonl"));
        for (int i = 0; i < sources.Count; i++)
        {
            var (photo, label) = sources[i];
            var pixels = new byte[width * height * 3];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    float ink = photo[x * photo.Width / width, y * photo.Height / height] / 255f;
                    for (int c = 0; c < 3; c++)
                        pixels[(y * width + x) * 3 + c] = (byte)Math.Clamp(255 - ink * (60 + 60 * c + 10 * label) + random.NextInt(9) - 4, 0, 255);
                }
            string file = Path.Combine(folder, $"p{i}.jpg");
            File.WriteAllBytes(file, JpegCodec.ForCurrentThread.EncodeRgb(new RgbImage(width, height, pixels), 90));
            files.Add(file);
            catalog.WriteLine(JsonSerializer.Serialize(new { id = $"p{i}", title = $"{FashionCategory.All[label].English} {i}", image = $"p{i}.jpg", queries = new[] { FashionCategory.All[label].English } }));
        }
        return files;
    }
}
