using CommerceMM.Tests.Shared;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// A user's own catalog through the whole product: `cmm data build catalog` on JPEG, PNG and WebP photos, `cmm train`
/// with two workers on the colour data set it wrote, and `cmm eval` of the result.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DataBuildCatalogTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly string _folder = Directory.CreateTempSubdirectory("cmm-e2e-catalog-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void BuildTrainEvaluate_OnAUsersCatalog()
    {
        string catalog = TestCatalog.Write(Path.Combine(_folder, "shop"), 60, "{\"id\": \"gone\", \"title\": \"No photo\", \"image\": \"images/none.jpg\"}");
        string data = Path.Combine(_folder, "data");
        string[] build = ["data", "build", "catalog", catalog, "--out", data, "--image-size", "28", "--eval-share", "0", "--vocab", "300"];

        using (var cmm = new CmmProcess(build))
        {
            Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
            Assert.Contains($"{data}: 54 training and 6 held-out products (10 categories); pass 2: 54 queries, 54 photos, 18 listings;", cmm.Output);
            Assert.Contains($"left out: 1 product and 0 of their queries, photos or listings; each with its reason in {data}/skipped.tsv", cmm.Output);
            Assert.Contains("not used: the fields \"price\" (60)", cmm.Output);
            Assert.Contains($"train on it: cmm train --set data.dir={data}", cmm.Output);
        }
        using (var again = new CmmProcess(build))
        {
            Assert.True(again.WaitForExit(Patience) == 0, again.Output);
            Assert.Contains($"{data}: already up to date", again.Output);
        }

        string runs = Path.Combine(_folder, "runs");
        Directory.CreateDirectory(runs);
        string spec = Path.Combine(CmmProcess.RepositoryRoot, "cluster/jobs/fashion-tiny.yaml");
        string[] overrides = TrainingArgs.Overrides("e2e-catalog", data, runs, steps: 4, batch: 4, every: 100);
        using (var train = new CmmProcess(["train", spec, "--workers", "2", .. overrides]))
        {
            Assert.True(train.WaitForExit(Patience) == 0, train.Output);
            Assert.Contains("Completed", train.Output);
            Assert.Equal(4, StepLog.Rank0Figures(train.Output).Count);
        }
        using var eval = new CmmProcess(["eval", spec, .. overrides, "--probe-items", "50"]);
        Assert.True(eval.WaitForExit(Patience) == 0, eval.Output);
        Assert.Contains("gallery: 6 held-out products; 6 queries, 0 photos (photo_to_product is not evaluated)", eval.Output);
        Assert.Contains("query_to_product", eval.Output);
        Assert.DoesNotContain("s_v·e_m", eval.Output);   // no photo_to_product row
    }

    [Theory]
    [InlineData("--image-size", "4", "--image-size must be in 8..1024, got 4")]
    [InlineData("--eval-share", "1", "--eval-share must be in [0, 1), got 1")]
    [InlineData("--max-skipped", "-0.5", "--max-skipped must be in [0, 1], got -0.5")]
    [InlineData("--vocab", "10", "--vocab must be in 64..1000000, got 10")]
    public void BadOptionValue_NamesTheOptionAndBuildsNothing(string option, string value, string message)
    {
        string output = Path.Combine(_folder, "out");
        using var cmm = new CmmProcess("data", "build", "catalog", Path.Combine(_folder, "c.jsonl"), "--out", output, option, value);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"cmm: {message}", cmm.Output);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void AMissingCatalog_IsOneLineSayingWhatACatalogIs()
    {
        using var cmm = new CmmProcess("data", "build", "catalog", Path.Combine(_folder, "none.jsonl"), "--out", Path.Combine(_folder, "out"));
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("none.jsonl' does not exist (a JSON Lines file, one product per line; see `cmm data build catalog --help`)", cmm.Output);
        Assert.DoesNotContain("   at ", cmm.Output);
    }

    [Fact]
    public void BenchCatalog_PrintsPerPhotoFiguresAgainstTheFullSizeDecode_AndProductsPerSecond()
    {
        using var cmm = new CmmProcess("bench", "catalog", "--photos", "6", "--photo-size", "320x240", "--image-size", "56", "--rounds", "1");
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        Assert.Contains("cmm bench catalog: 6 JPEG photos of 320x240 to 56x56", cmm.Output);
        Assert.Matches(@"decode at full size, resize and crop \(ref\)\s+\d+\.\d\d", cmm.Output);
        Assert.Matches(@"decode at M/8 scale, resize and crop\s+\d+\.\d\d\s+\d+\.\dx faster", cmm.Output);
        Assert.Matches(@"whole build on \d+ cores \(tokenizer included\): \d+\.\d products/s", cmm.Output);
    }

    [Fact]
    public void BenchCatalog_ABadPhotoSize_SaysWhatWorks()
    {
        using var cmm = new CmmProcess("bench", "catalog", "--photo-size", "big");
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("cmm: --photo-size 'big' is not WIDTHxHEIGHT of at least 8x8 and at most 67.1 megapixels, e.g. 1600x1200", cmm.Output);
    }

    [Fact]
    public void Train_OnADataDirThatWasNeverBuilt_SaysHowToBuildItFromACatalog()
    {
        string missing = Path.Combine(_folder, "shop");
        using var cmm = new CmmProcess("train", "--set", $"data.dir={missing}");
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"data.dir: '{missing}' holds no dataset.json; build it with: cmm data build fashion --out {missing} (from Fashion-MNIST), " +
                        $"or from your own products: cmm data build catalog FILE --out {missing}", cmm.Output);
    }
}
