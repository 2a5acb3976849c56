using CommerceMM.Data.Catalog;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Tests.Shared;
using TorchSharp;

namespace CommerceMM.Data.Tests.Catalog;

public class CatalogDatasetBuilderTests
{
    private const int Products = 30;
    private const int Size = 28;

    private static CatalogDatasetOptions Options(string catalog, string output) => new()
    {
        CatalogFile = catalog, OutputDirectory = output, ImageSize = Size, EvalShare = 0, VocabSize = 200, SamplesPerShard = 16, Workers = 2,
    };

    [Fact]
    public async Task Build_ReadsJpegPngAndWebp_AndLeavesOutWhatItCannotUseWithTheReason()
    {
        using var dir = new TempDirectory("catalog");
        File.WriteAllText(Path.Combine(dir.Path, "error.jpg"), "<html>404 not found</html>");
        string catalog = TestCatalog.Write(dir.Path, Products,
            "{\"id\": \"broken\", \"title\": ",                                                         // not JSON
            "{\"id\": \"gone\", \"title\": \"Missing photo\", \"image\": \"images/none.jpg\"}",           // no such file
            "{\"id\": \"html\", \"title\": \"A web page\", \"image\": \"error.jpg\"}",                    // not an image
            "{\"id\": \"sku-0001\", \"title\": \"Same id again\", \"image\": \"images/p1.png\"}",         // duplicate id
            "{\"id\": \"lost-photo\", \"title\": \"Kept\", \"image\": \"images/p0.jpg\", \"queries\": [\"boot\"], \"photos\": [\"ugc/none.jpg\", \"https://cdn.example/p.jpg\"]}");
        var options = Options(catalog, Path.Combine(dir.Path, "out"));
        options.MaxSkippedShare = 0.2;

        var (result, ignored, _) = await CatalogDatasetBuilder.BuildAsync(options);

        var m = result.Manifest;
        Assert.Equal(new ImageSpec(Size, Size, 3, m.Image.Mean, m.Image.Std), m.Image);
        Assert.Equal(Products / 10, m.Counts["eval_products"]);                      // the catalog's "split": "eval" rows
        Assert.Equal(Products - Products / 10 + 1, m.Counts["train_products"]);      // + lost-photo
        Assert.Equal((4, 2), (m.Counts["skipped_products"], m.Counts["skipped_sources"]));
        Assert.Equal(m.Counts["train_products"] - 1, m.Counts["train_photos"]);
        Assert.Equal(10, m.Counts["categories"]);
        Assert.Equal(m.Counts["train_queries"] + m.Counts["train_photos"] + m.Counts["train_listings"], m.Streams[StreamNames.Omni].Samples);
        Assert.Equal(Products, ignored["price"]);

        string[] skipped = File.ReadAllLines(Path.Combine(result.Directory, CatalogDatasetBuilder.SkippedFile));
        Assert.Equal(7, skipped.Length);   // header + 6
        Assert.Contains(skipped, l => l.StartsWith($"{Products + 1}\t\tproduct\tnot valid JSON", StringComparison.Ordinal));
        Assert.Contains(skipped, l => l.StartsWith($"{Products + 2}\tgone\tproduct\timage '", StringComparison.Ordinal) && l.EndsWith("none.jpg' does not exist", StringComparison.Ordinal));
        Assert.Contains(skipped, l => l.StartsWith($"{Products + 3}\thtml\tproduct\timage '", StringComparison.Ordinal) && l.Contains("not a JPEG, PNG or WebP file (it starts with 3c 68 74 6d", StringComparison.Ordinal));
        Assert.Contains(skipped, l => l.StartsWith($"{Products + 4}\tsku-0001\tproduct\tid 'sku-0001' is already the product on line 2", StringComparison.Ordinal));
        Assert.Contains(skipped, l => l.StartsWith($"{Products + 5}\tlost-photo\tphoto 1\t'", StringComparison.Ordinal));
        Assert.Contains($"{Products + 5}\tlost-photo\tphoto 2\t'https://cdn.example/p.jpg' is a URL; the build reads files: download the photos first", string.Join("\n", skipped));
    }

    [Fact]
    public async Task Loader_ReadsColourImagesChannelsFirst_InTheProductsColour()
    {
        using var dir = new TempDirectory("catalog");
        var (result, _, _) = await CatalogDatasetBuilder.BuildAsync(Options(TestCatalog.Write(dir.Path, 12), Path.Combine(dir.Path, "out")));
        var image = result.Manifest.Image;

        await using var loader = DataLoader.Pairs(new LoaderOptions { DatasetDirectory = result.Directory, Stream = StreamNames.Pairs, BatchSize = 4, Seed = 1 });
        using var batch = await loader.NextAsync();

        Assert.Empty(batch.SkippedReasons);
        Assert.Equal(new long[] { 4, 3, Size, Size }, batch.Images.shape);
        // The darkest pixel of each product is its ink at full strength: the category's colour (TestCatalog), channel by channel.
        var photos = FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Train, 12);
        using var pixels = (batch.Images * image.Std + image.Mean) * 255;
        for (int row = 0; row < 4; row++)
        {
            int index = int.Parse(batch.Keys[row]["sku-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            using var rgb = pixels[row].reshape(3, -1);
            long darkest = rgb.sum(dim: 0).argmin().item<long>();
            using var column = rgb.select(1, darkest);
            float[] colour = column.data<float>().ToArray();
            var expected = TestCatalog.Colour(photos[index].Label, photos[index].Image.Pixels.Max() / 255f);
            for (int c = 0; c < 3; c++)
                Assert.True(Math.Abs(colour[c] - expected[c]) < 40, $"{batch.Keys[row]} channel {c}: {string.Join(",", colour)} at {darkest}, expected about {string.Join(",", expected)}");
        }
    }

    [Fact]
    public async Task Rebuild_OfAnUnchangedCatalog_IsANoOp_AndAChangedImageNeedsOverwrite()
    {
        using var dir = new TempDirectory("catalog");
        var options = Options(TestCatalog.Write(dir.Path, 12), Path.Combine(dir.Path, "out"));
        var (first, _, _) = await CatalogDatasetBuilder.BuildAsync(options);

        var (again, _, _) = await CatalogDatasetBuilder.BuildAsync(options);
        Assert.True(again.UpToDate);

        File.SetLastWriteTimeUtc(Path.Combine(dir.Path, "images", "p4.png"), DateTime.UtcNow.AddMinutes(1));
        var refused = await Assert.ThrowsAsync<DatasetException>(() => CatalogDatasetBuilder.BuildAsync(options));
        Assert.Contains("--overwrite", refused.Message);
        options.Overwrite = true;
        var (rebuilt, _, _) = await CatalogDatasetBuilder.BuildAsync(options);
        Assert.False(rebuilt.UpToDate);
        Assert.NotEqual(first.Manifest.Fingerprint, rebuilt.Manifest.Fingerprint);
    }

    [Fact]
    public async Task TooMuchUnusable_FailsNamingTheFirstReasons_AndLeavesNoDataSet()
    {
        using var dir = new TempDirectory("catalog");
        string catalog = TestCatalog.Write(dir.Path, 10, "{\"id\": \"a\", \"title\": \"t\", \"image\": \"photos/a.jpg\"}", "{\"id\": \"b\", \"title\": \"t\"}");
        var options = Options(catalog, Path.Combine(dir.Path, "out"));

        var e = await Assert.ThrowsAsync<DatasetException>(() => CatalogDatasetBuilder.BuildAsync(options));

        Assert.Contains("2 of the catalog's 12 products cannot be used (16.7 %, more than --max-skipped 0.05)", e.Message);
        Assert.Contains("line 11 (a): product skipped: image '", e.Message);
        Assert.Contains("line 12 (b): product skipped: 'image' is missing", e.Message);
        Assert.Contains(CatalogDatasetBuilder.SkippedFile, e.Message);
        Assert.False(File.Exists(Path.Combine(options.OutputDirectory, DatasetManifest.FileName)));
    }

    [Fact]
    public async Task ACatalogWithoutQueriesPhotosOrListings_IsRefused_BecausePassTwoWouldHaveNoData()
    {
        using var dir = new TempDirectory("catalog");
        TestCatalog.Write(dir.Path, 3);
        string catalog = Path.Combine(dir.Path, "plain.jsonl");
        File.WriteAllLines(catalog, Enumerable.Range(0, 3).Select(i => $"{{\"id\": {i}, \"title\": \"Product {i}\", \"image\": \"images/p{i}.{(i % 3) switch { 0 => "jpg", 1 => "png", _ => "webp" }}\"}}"));

        var e = await Assert.ThrowsAsync<DatasetException>(() => CatalogDatasetBuilder.BuildAsync(Options(catalog, Path.Combine(dir.Path, "out"))));

        Assert.Contains("no training product has \"queries\", \"photos\" or \"listings\"", e.Message);
    }

    [Fact]
    public void Split_HoldsOutTheShareByIdHash_StableAsTheCatalogGrows()
    {
        static CatalogProduct P(int i) => new(i, $"id-{i}", "t", null, "/x.jpg", null, [], [], [], null);
        static List<CatalogProduct> HeldOut(List<CatalogProduct> products, double share)
        {
            var split = new EvalSplit(share);
            products.ForEach(split.Observe);
            split.Finish();
            var eval = products.Where(split.IsEval).ToList();
            Assert.Equal((eval.Count, products.Count - eval.Count), (split.Eval, split.Train));
            return eval;
        }
        var small = HeldOut(Enumerable.Range(0, 500).Select(P).ToList(), 0.1).Select(p => p.Id).ToHashSet();
        var large = HeldOut(Enumerable.Range(0, 1000).Select(P).ToList(), 0.1).Select(p => p.Id).ToHashSet();

        Assert.InRange(large.Count, 70, 130);
        Assert.Subset(large, small);
        Assert.Single(HeldOut([P(1), P(2)], 0.01));   // a share too small for the catalog still holds one out
        Assert.Empty(HeldOut([P(1), P(2)], 0));
    }

    [Fact]
    public async Task Loader_OnAStreamWithNoSample_FailsNamingIt_InsteadOfSpinning()
    {
        // Nine products and no eval share: no product is held out, so both eval streams are empty.
        using var dir = new TempDirectory("catalog");
        var (result, _, _) = await CatalogDatasetBuilder.BuildAsync(Options(TestCatalog.Write(dir.Path, 9), Path.Combine(dir.Path, "out")));
        Assert.Equal(0, result.Manifest.Streams[StreamNames.EvalOmni].Samples);

        var e = Assert.Throws<DatasetException>(() => DataLoader.Omni(new LoaderOptions { DatasetDirectory = result.Directory, Stream = StreamNames.EvalOmni, BatchSize = 4 }));

        Assert.Equal($"stream 'eval_omni' of '{result.Directory}' holds no sample", e.Message);
    }

    private static Dictionary<string, byte[]> DataSetBytes(string directory) =>
        DatasetManifest.Read(directory).Files().Select(f => f.File).Append(DatasetManifest.FileName)
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(directory, f)));

    private static string CacheOf(string directory) => Path.Combine(directory, CatalogDatasetBuilder.ImageCacheFolder);

    /// <summary>The squares a finished build left for the next one: its index's lines.</summary>
    private static int KeptSquares(string directory) => File.ReadLines(Path.Combine(CacheOf(directory), "index.tsv")).Count();

    private static int LooseSquares(string directory) =>
        Directory.EnumerateFiles(CacheOf(directory), "*.jpg", SearchOption.AllDirectories).Count();

    /// <summary>How many names the file's bytes have (stat's %h): 2 when the cache links a shard.</summary>
    private static int Names(string file)
    {
        var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%h", file]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void AssertSameBytes(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (file, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[file]), $"{file} differs");
    }

    [Fact]
    public async Task AFinishedBuild_KeepsItsSquaresAsLinksToItsShards_NotCopies_AndTheNextBuildReadsThem()
    {
        using var dir = new TempDirectory("catalog");
        string catalog = TestCatalog.Write(dir.Path, 12);
        var options = Options(catalog, Path.Combine(dir.Path, "out"));
        var (first, _, firstCached) = await CatalogDatasetBuilder.BuildAsync(options);
        var expected = DataSetBytes(first.Directory);
        int squares = KeptSquares(first.Directory);

        Assert.Equal(0, LooseSquares(first.Directory));
        foreach (var shard in first.Manifest.Streams.Values.SelectMany(s => s.Shards))
            Assert.Equal(2, Names(Path.Combine(first.Directory, shard.File)));

        // Rebuilt from scratch (dataset.json gone): the streams are cleared and written again from the kept squares.
        File.Delete(Path.Combine(first.Directory, DatasetManifest.FileName));
        var (again, _, cached) = await CatalogDatasetBuilder.BuildAsync(options);

        Assert.Equal(0, firstCached);
        Assert.Equal(12 + 12, squares);   // each product's image and its user's photo (listings reuse the photo)
        Assert.Equal(12 + 11 + 4, cached);   // every image the products ask for: 11 photos (the held-out one has none), 4 listings
        AssertSameBytes(expected, DataSetBytes(again.Directory));

        // A build without any cache writes the same shards and normalisation: the cache changes only how long a build
        // takes. (SentencePiece records its output path in the model, so the tokenizer of another folder differs.)
        var (fresh, _, _) = await CatalogDatasetBuilder.BuildAsync(Options(catalog, Path.Combine(dir.Path, "fresh")));
        var freshBytes = DataSetBytes(fresh.Directory);
        Assert.Equal(first.Manifest.Image, fresh.Manifest.Image);
        foreach (var shard in first.Manifest.Streams.Values.SelectMany(s => s.Shards))
            Assert.True(expected[shard.File].AsSpan().SequenceEqual(freshBytes[shard.File]), $"{shard.File} differs");

        // The catalog loses a product: after the next build its squares are gone from the cache.
        File.WriteAllLines(catalog, File.ReadAllLines(catalog).Take(11));
        options.Overwrite = true;
        await CatalogDatasetBuilder.BuildAsync(options);
        Assert.Equal(11 + 11, KeptSquares(first.Directory));
        Assert.Equal(0, LooseSquares(first.Directory));
    }

    [Fact]
    public async Task ABuildStoppedPartWay_GoesOnFromTheSquaresItMade_AndWritesTheSameBytes()
    {
        using var dir = new TempDirectory("catalog");
        string catalog = TestCatalog.Write(dir.Path, 12);
        var (fresh, _, _) = await CatalogDatasetBuilder.BuildAsync(Options(catalog, Path.Combine(dir.Path, "fresh")));
        var options = Options(catalog, Path.Combine(dir.Path, "out"));

        using var stop = new CancellationTokenSource();
        var stopHalfWay = new SynchronousProgress<BuildProgress>(p => { if (p.Stage == BuildStage.Train && p.Completed >= 6) stop.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CatalogDatasetBuilder.BuildAsync(options, stopHalfWay, stop.Token));
        int made = LooseSquares(options.OutputDirectory);
        var (result, _, cached) = await CatalogDatasetBuilder.BuildAsync(options);

        Assert.InRange(made, 6, 12 + 12 - 1);
        Assert.InRange(cached, made, 12 + 11 + 4 - 1);   // each square made before the stop is read back (some serve 2 uses), not all
        // The same shards as a build that was never stopped (the tokenizer records its folder, so it differs).
        var shards = fresh.Manifest.Streams.Values.SelectMany(s => s.Shards).Select(s => s.File).ToHashSet();
        AssertSameBytes(DataSetBytes(fresh.Directory).Where(f => shards.Contains(f.Key)).ToDictionary(),
                        DataSetBytes(result.Directory).Where(f => shards.Contains(f.Key)).ToDictionary());
        Assert.Equal(0, LooseSquares(result.Directory));
    }

    [Fact]
    public async Task AKeptSquareWhoseBytesChanged_IsMadeAgain_AndTheDataSetIsWhole()
    {
        using var dir = new TempDirectory("catalog");
        string catalog = TestCatalog.Write(dir.Path, 12);
        var options = Options(catalog, Path.Combine(dir.Path, "out"));
        var (first, _, _) = await CatalogDatasetBuilder.BuildAsync(options);
        var expected = DataSetBytes(first.Directory);
        // Someone edits the cache: the first square of the index points at other bytes.
        string index = Path.Combine(CacheOf(first.Directory), "index.tsv");
        string[] lines = File.ReadAllLines(index);
        string[] f = lines[0].Split('\t');
        lines[0] = string.Join('\t', f[0], f[1], (long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), f[3], f[4]);
        File.WriteAllLines(index, lines);

        File.Delete(Path.Combine(first.Directory, DatasetManifest.FileName));
        var (again, _, cached) = await CatalogDatasetBuilder.BuildAsync(options);

        Assert.InRange(cached, 1, 12 + 11 + 4 - 1);   // that square, wherever the products use it, is made again
        AssertSameBytes(expected, DataSetBytes(again.Directory));
    }

    [Fact]
    public async Task TokenizerFrom_KeepsAnEarlierDataSetsTokenizer_EvenWhenItIsTheFolderBeingRebuilt()
    {
        using var dir = new TempDirectory("catalog");
        string catalog = TestCatalog.Write(dir.Path, 12);
        var options = Options(catalog, Path.Combine(dir.Path, "v1"));
        var (first, _, _) = await CatalogDatasetBuilder.BuildAsync(options);
        byte[] tokenizer = File.ReadAllBytes(Path.Combine(first.Directory, "tokenizer.model"));
        File.AppendAllLines(catalog, ["{\"id\": \"new-1\", \"title\": \"Velvet evening gown with long sleeves\", \"image\": \"images/p0.jpg\", \"queries\": [\"velvet gown\"]}"]);

        // Into another folder, and into the same one (read before the rebuild clears it).
        var toOther = Options(catalog, Path.Combine(dir.Path, "v2"));
        toOther.TokenizerFrom = first.Directory;
        var (other, _, _) = await CatalogDatasetBuilder.BuildAsync(toOther);
        options.Overwrite = true;
        options.TokenizerFrom = first.Directory;
        var (same, _, _) = await CatalogDatasetBuilder.BuildAsync(options);
        var (retrained, _, _) = await CatalogDatasetBuilder.BuildAsync(Options(catalog, Path.Combine(dir.Path, "retrained")));
        // Or from the tokenizer file alone (what `cmm checkpoints export` writes beside the weights).
        string file = Path.Combine(dir.Path, "kept.tokenizer.model");
        File.WriteAllBytes(file, tokenizer);
        var fromFile = Options(catalog, Path.Combine(dir.Path, "from-file"));
        fromFile.TokenizerFrom = file;
        var (filed, _, _) = await CatalogDatasetBuilder.BuildAsync(fromFile);

        foreach (var kept in new[] { other, same, filed })
        {
            Assert.Equal(retrained.Manifest.Counts, kept.Manifest.Counts);   // the new product is in
            Assert.Equal(first.Manifest.Tokenizer, kept.Manifest.Tokenizer);
            Assert.Equal(tokenizer, File.ReadAllBytes(Path.Combine(kept.Directory, "tokenizer.model")));
            Assert.False(File.Exists(Path.Combine(kept.Directory, "tokenizer-corpus.txt")));
        }
        Assert.Equal(first.Manifest.Counts["train_products"] + 1, retrained.Manifest.Counts["train_products"]);
        Assert.NotEqual(first.Manifest.Tokenizer.Sha256, retrained.Manifest.Tokenizer.Sha256);
        Assert.NotEqual(retrained.Manifest.Fingerprint, other.Manifest.Fingerprint);   // the kept tokenizer is one of the build's inputs
    }

    [Fact]
    public async Task TokenizerFrom_AFileThatIsNoTokenizer_IsAnErrorNamingIt()
    {
        using var dir = new TempDirectory("catalog");
        string catalog = TestCatalog.Write(dir.Path, 12);
        var options = Options(catalog, Path.Combine(dir.Path, "out"));
        options.TokenizerFrom = catalog;

        var error = await Assert.ThrowsAsync<DatasetException>(() => CatalogDatasetBuilder.BuildAsync(options));

        Assert.StartsWith($"--tokenizer-from '{catalog}' is not a SentencePiece model", error.Message);
    }

    [Fact]
    public async Task TokenizerFrom_AFolderWithoutADataSet_IsAnErrorNamingIt()
    {
        using var dir = new TempDirectory("catalog");
        var options = Options(TestCatalog.Write(dir.Path, 12), Path.Combine(dir.Path, "out"));
        options.TokenizerFrom = Path.Combine(dir.Path, "nothing");
        Directory.CreateDirectory(options.TokenizerFrom);

        var error = await Assert.ThrowsAsync<DatasetException>(() => CatalogDatasetBuilder.BuildAsync(options));

        Assert.StartsWith($"--tokenizer-from '{Path.Combine(dir.Path, "nothing")}' is not a finished data set (no dataset.json): name the folder", error.Message);
        Assert.False(Directory.Exists(options.OutputDirectory));
    }
}
