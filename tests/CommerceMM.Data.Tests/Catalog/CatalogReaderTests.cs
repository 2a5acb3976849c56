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

        var p = Assert.Single(catalog.Products);
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

        Assert.Equal(["q"], Assert.Single(catalog.Products).Queries);
        Assert.Equal(["query 2", "query 3", "listing 1"], catalog.Problems.Select(p => p.What));
        Assert.DoesNotContain(catalog.Problems, p => p.LostProduct);
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
