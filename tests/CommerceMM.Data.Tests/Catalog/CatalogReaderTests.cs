using System.Text;
using CommerceMM.Data.Catalog;

namespace CommerceMM.Data.Tests.Catalog;

public class CatalogReaderTests
{
    [Fact]
    public void Read_ResolvesPathsAgainstTheCatalogsFolder_AndMakesEveryTextOneLine()
    {
        using var dir = new TempDirectory("catalog");
        string path = Path.Combine(dir.Path, "c.jsonl");
        string longText = string.Concat(Enumerable.Repeat("wörd ", 1000));
        File.WriteAllLines(path,
        [
            "\uFEFF{\"id\": 42, \"title\": \"Shirt\\nwith\\tbreaks \", \"description\": \"" + longText + "\", \"image\": \"img/a.jpg\", \"brand\": \"x\"}",
            "",
            "{\"id\": \"b\", \"title\": \"T\", \"image\": \"/abs/b.png\", \"queries\": [\"q\", \"  \", 3], \"listings\": [{\"text\": \"l\"}], \"split\": \"test\"}",
        ], new UTF8Encoding(false));

        var catalog = CatalogReader.Read(path);

        var p = Assert.Single(catalog.ReadProducts());
        Assert.Equal(("42", "Shirt with breaks", Path.Combine(dir.Path, "img", "a.jpg")), (p.Id, p.Title, p.Image));
        Assert.InRange(Encoding.UTF8.GetByteCount(p.Description!), CatalogReader.MaxTextBytes - 10, CatalogReader.MaxTextBytes);
        Assert.EndsWith("wörd", p.Description);
        Assert.Equal(2, catalog.Lines);
        Assert.Equal(1, catalog.IgnoredFields["brand"]);
        var problem = Assert.Single(catalog.Problems);
        Assert.Equal("line 3 (b): product skipped: 'split' is 'test'; use \"train\" or \"eval\", or leave it out", problem.ToString());
    }

    [Fact]
    public void Read_LeavesOutBadSourcesButKeepsTheProduct()
    {
        using var dir = new TempDirectory("catalog");
        string path = Path.Combine(dir.Path, "c.jsonl");
        File.WriteAllText(path, "{\"id\": \"b\", \"title\": \"T\", \"image\": \"b.png\", \"queries\": [\"q\", \"  \", 3], \"listings\": [{\"text\": \"l\"}]}\n");

        var catalog = CatalogReader.Read(path);

        Assert.Equal(["q"], Assert.Single(catalog.ReadProducts()).Queries);
        Assert.Equal(["query 2", "query 3", "listing 1"], catalog.Problems.Select(p => p.What));
        Assert.DoesNotContain(catalog.Problems, p => p.LostProduct);
    }

    [Fact]
    public void ReadProducts_GivesWhatTheFirstReadSaw_WithoutTheLinesItLeftOut()
    {
        using var dir = new TempDirectory("catalog");
        string path = Path.Combine(dir.Path, "c.jsonl");
        File.WriteAllLines(path,
        [
            "{\"id\": \"a\", \"title\": \"A\", \"image\": \"a.png\", \"queries\": [\"q\", 3]}",
            "{\"id\": \"b\", \"title\": \"B\"}",
            "",
            "{\"id\": \"a\", \"title\": \"A again\", \"image\": \"a2.png\"}",
            "{\"id\": \"c\", \"title\": \"C\", \"image\": \"c.png\", \"split\": \"eval\"}",
        ]);
        var seen = new List<CatalogProduct>();

        var catalog = CatalogReader.Read(path, seen.Add);

        Assert.Equal(["a", "c"], seen.Select(p => p.Id));
        Assert.Equal(2, catalog.Products);
        Assert.Equal(seen.Select(p => (p.Line, p.Title, p.Image, string.Join("|", p.Queries), p.Split)),
                     catalog.ReadProducts().Select(p => (p.Line, p.Title, p.Image, string.Join("|", p.Queries), p.Split)));
        Assert.Equal(["line 1 (a): query 2 skipped: not a non-empty string", "line 2 (b): product skipped: 'image' is missing: every product needs an image file",
                      "line 4 (a): product skipped: id 'a' is already the product on line 1"], catalog.Problems.Select(p => p.ToString()));
    }

    [Fact]
    public void ReadProducts_OfACatalogChangedSinceTheFirstRead_IsRefused()
    {
        using var dir = new TempDirectory("catalog");
        string path = Path.Combine(dir.Path, "c.jsonl");
        File.WriteAllText(path, "{\"id\": \"a\", \"title\": \"A\", \"image\": \"a.png\"}\n");
        var catalog = CatalogReader.Read(path);

        File.AppendAllText(path, "{\"id\": \"b\", \"title\": \"B\", \"image\": \"b.png\"}\n");
        var e = Assert.Throws<CommerceMM.Data.Format.DatasetException>(() => catalog.ReadProducts().ToList());

        Assert.Equal($"catalog '{path}' changed while the build was reading it; run the build again once it is written", e.Message);
    }

    [Fact]
    public void Read_ReportsHowFarItIs_AHundredTimesAtMost_AndStopsWhenCancelled()
    {
        using var dir = new TempDirectory("catalog");
        string path = Path.Combine(dir.Path, "c.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 20_000).Select(i => $"{{\"id\": {i}, \"title\": \"Product {i}\", \"image\": \"p{i}.png\"}}"));
        long size = new FileInfo(path).Length;
        var reports = new List<(long Read, long Total)>();

        var catalog = CatalogReader.Read(path, onRead: (read, total) => reports.Add((read, total)));

        Assert.Equal(20_000, catalog.Products);
        Assert.InRange(reports.Count, 10, 102);
        Assert.All(reports, r => Assert.Equal(size, r.Total));
        Assert.Equal(reports.Select(r => r.Read).Order(), reports.Select(r => r.Read));
        Assert.Equal(size, reports[^1].Read);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => CatalogReader.Read(path, cancellationToken: cancelled.Token));
    }

    [Fact]
    public void Read_AMissingCatalog_SaysWhatACatalogIs()
    {
        var e = Assert.Throws<FileNotFoundException>(() => CatalogReader.Read("/no/such/catalog.jsonl"));
        Assert.Contains("JSON Lines file, one product per line", e.Message);
    }

    [Fact]
    public void Read_AJsonArray_SaysHowToMakeJsonLines()
    {
        using var dir = new TempDirectory("catalog");
        string path = Path.Combine(dir.Path, "c.json");
        File.WriteAllText(path, "[\n  {\"id\": 1, \"title\": \"T\", \"image\": \"a.jpg\"}\n]\n");

        var e = Assert.Throws<CommerceMM.Data.Format.DatasetException>(() => CatalogReader.Read(path));

        Assert.Equal($"catalog '{path}' is a JSON array; the build reads JSON Lines, one product object per line: convert it with jq -c '.[]' {path} > products.jsonl", e.Message);
    }
}
