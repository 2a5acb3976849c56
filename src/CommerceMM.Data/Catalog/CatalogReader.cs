using System.Text;
using System.Text.Json;
using CommerceMM.Data.Format;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// What <see cref="CatalogReader.Read"/> found: how many products, what it left out, and fields it does not read. The
/// products themselves are read again from the file when needed (<see cref="ReadProducts"/>), not held: a catalog of
/// millions of products with long descriptions does not fit in memory.
/// </summary>
/// <param name="Lines">the non-blank lines, each a product</param>
/// <param name="Products">the usable products</param>
/// <param name="IgnoredFields">fields the catalog has that the build does not use (name to the number of products having it)</param>
public sealed record CatalogFile(string Path, int Lines, int Products, IReadOnlyList<CatalogProblem> Problems,
                                 IReadOnlyDictionary<string, int> IgnoredFields)
{
    internal IReadOnlySet<int> LostLines { get; init; } = new HashSet<int>();

    internal (long Length, DateTime Written) Stamp { get; init; }

    /// <summary>The usable products, in the file's order, read from the file again.</summary>
    /// <exception cref="DatasetException">The file changed since <see cref="CatalogReader.Read"/>.</exception>
    public IEnumerable<CatalogProduct> ReadProducts()
    {
        CheckUnchanged();
        foreach (var (number, line, _) in CatalogReader.Lines(Path))
        {
            if (LostLines.Contains(number)) continue;
            // Its problems were counted by the first read.
            yield return CatalogReader.Parse(line, number, System.IO.Path.GetDirectoryName(Path)!, problems: [], ignored: new Dictionary<string, int>());
        }
        CheckUnchanged();
    }

    private void CheckUnchanged()
    {
        if (CatalogReader.StampOf(Path) != Stamp)
            throw new DatasetException($"catalog '{Path}' changed while the build was reading it; run the build again once it is written");
    }
}

/// <summary>
/// Reads a catalog in JSON Lines, one product per line:
/// <c>{"id": "sku-1", "title": "…", "description": "…", "image": "img/sku-1.jpg", "category": "dresses",
/// "queries": ["…"], "photos": ["ugc/1.jpg"], "listings": [{"text": "…", "image": "…"}], "split": "eval"}</c>.
/// Only id, title and image are required. A line that is not such a product is left out with its reason (and a bad
/// query, photo or listing alone), so one bad row of a million does not stop a build; the builder decides how many are
/// too many.
/// </summary>
public static class CatalogReader
{
    public static readonly IReadOnlyList<string> KnownFields = ["id", "title", "description", "image", "category", "queries", "photos", "listings", "split"];

    /// <summary>Texts longer than this are cut (at a word where possible): the loader refuses samples over 4 KiB of text.</summary>
    public const int MaxTextBytes = 2048;

    /// <summary>The catalog's full path.</summary>
    /// <exception cref="FileNotFoundException">The catalog file does not exist.</exception>
    public static string Locate(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        return File.Exists(full) ? full
            : throw new FileNotFoundException($"catalog '{path}' does not exist (a JSON Lines file, one product per line; see `cmm data build catalog --help`)", full);
    }

    /// <summary>Reads the catalog through once, handing each usable product to <paramref name="onProduct"/> and keeping none.</summary>
    /// <param name="onRead">bytes read and the file's size, every hundredth of it</param>
    /// <exception cref="FileNotFoundException">The catalog file does not exist.</exception>
    /// <exception cref="DatasetException">The file is one JSON array rather than JSON Lines.</exception>
    public static CatalogFile Read(string path, Action<CatalogProduct>? onProduct = null, Action<long, long>? onRead = null,
                                   CancellationToken cancellationToken = default)
    {
        string full = Locate(path);
        var stamp = StampOf(full);
        string folder = System.IO.Path.GetDirectoryName(full)!;
        var problems = new List<CatalogProblem>();
        var ignored = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var lineOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        int lines = 0;
        long nextReport = 0;
        foreach (var (lineNumber, line, position) in Lines(full))
        {
            if (position >= nextReport)
            {
                cancellationToken.ThrowIfCancellationRequested();
                onRead?.Invoke(position, stamp.Length);
                nextReport = position + Math.Max(1, stamp.Length / 100);
            }
            if (lines == 0 && line.TrimStart().StartsWith('['))
                throw new DatasetException($"catalog '{path}' is a JSON array; the build reads JSON Lines, one product object per line: convert it with jq -c '.[]' {path} > products.jsonl");
            lines++;
            try
            {
                var product = Parse(line, lineNumber, folder, problems, ignored);
                if (lineOfId.TryGetValue(product.Id, out int first))
                    throw new LineException(product.Id, $"id '{product.Id}' is already the product on line {first}");
                lineOfId[product.Id] = lineNumber;
                onProduct?.Invoke(product);
            }
            catch (LineException e)
            {
                problems.Add(new CatalogProblem(lineNumber, e.Id, "product", e.Message));
            }
        }
        onRead?.Invoke(stamp.Length, stamp.Length);
        var lost = problems.Where(p => p.LostProduct).Select(p => p.Line).ToHashSet();
        return new CatalogFile(full, lines, lineOfId.Count, problems, ignored) { LostLines = lost, Stamp = stamp };
    }

    /// <summary>The non-blank lines, their numbers and how far into the file the reader is, a byte-order mark dropped.</summary>
    internal static IEnumerable<(int Number, string Line, long Position)> Lines(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new StreamReader(file, new UTF8Encoding(false, throwOnInvalidBytes: false));
        int number = 0;
        while (reader.ReadLine() is { } raw)
        {
            number++;
            string line = number == 1 ? raw.TrimStart('\uFEFF') : raw;
            if (!string.IsNullOrWhiteSpace(line)) yield return (number, line, file.Position);
        }
    }

    internal static (long Length, DateTime Written) StampOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    /// <exception cref="LineException">The line is not a usable product.</exception>
    internal static CatalogProduct Parse(string line, int number, string folder, List<CatalogProblem> problems, IDictionary<string, int> ignored)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new LineException(null, $"not valid JSON ({e.Message})"); }
        using (doc)
        {
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw new LineException(null, $"a product must be a JSON object, not {o.ValueKind.ToString().ToLowerInvariant()}");
            string id = Id(o);
            foreach (var field in o.EnumerateObject())
                if (!KnownFields.Contains(field.Name))
                    ignored[field.Name] = ignored.TryGetValue(field.Name, out int n) ? n + 1 : 1;

            string title = Text(o, "title", id) ?? throw new LineException(id, "'title' is missing: every product needs a title");
            string image = Path(o, "image", folder, id) ?? throw new LineException(id, "'image' is missing: every product needs an image file");
            var split = OptionalString(o, "split", id) switch
            {
                null => (CatalogSplit?)null,
                "train" => CatalogSplit.Train,
                "eval" => CatalogSplit.Eval,
                var other => throw new LineException(id, $"'split' is '{other}'; use \"train\" or \"eval\", or leave it out"),
            };

            var queries = new List<string>();
            foreach (var (item, i) in Items(o, "queries", id))
            {
                string? query = item.ValueKind == JsonValueKind.String ? Clean(item.GetString()!) : null;
                if (query is null) problems.Add(new CatalogProblem(number, id, $"query {i + 1}", "not a non-empty string"));
                else queries.Add(query);
            }
            var photos = new List<string>();
            foreach (var (item, i) in Items(o, "photos", id))
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString()!.Trim().Length > 0) photos.Add(Resolve(folder, item.GetString()!));
                else problems.Add(new CatalogProblem(number, id, $"photo {i + 1}", "not a file path"));
            }
            var listings = new List<CatalogListing>();
            foreach (var (item, i) in Items(o, "listings", id))
            {
                string? text = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? Clean(t.GetString()!) : null;
                string? file = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("image", out var f) && f.ValueKind == JsonValueKind.String && f.GetString()!.Trim().Length > 0
                    ? Resolve(folder, f.GetString()!) : null;
                if (text is null || file is null) problems.Add(new CatalogProblem(number, id, $"listing {i + 1}", "needs a non-empty \"text\" and an \"image\" path"));
                else listings.Add(new CatalogListing(text, file));
            }
            return new CatalogProduct(number, id, title, Text(o, "description", id), image, Text(o, "category", id), queries, photos, listings, split);
        }
    }

    private static string Id(JsonElement o)
    {
        if (!o.TryGetProperty("id", out var id)) throw new LineException(null, "'id' is missing: every product needs a unique id");
        string? text = id.ValueKind switch
        {
            JsonValueKind.String => id.GetString()!.Trim(),
            JsonValueKind.Number => id.GetRawText(),
            _ => null,
        };
        return string.IsNullOrEmpty(text) ? throw new LineException(null, "'id' must be a non-empty string or a number") : text;
    }

    private static string? OptionalString(JsonElement o, string name, string id)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()!.Trim() : throw new LineException(id, $"'{name}' must be a string, not {v.ValueKind.ToString().ToLowerInvariant()}");
    }

    /// <summary>The field as one line of text, cut to <see cref="MaxTextBytes"/>; null when absent or blank.</summary>
    private static string? Text(JsonElement o, string name, string id) => OptionalString(o, name, id) is { } s ? Clean(s) : null;

    private static string? Path(JsonElement o, string name, string folder, string id) =>
        OptionalString(o, name, id) is { Length: > 0 } s ? Resolve(folder, s) : null;

    private static IEnumerable<(JsonElement Item, int Index)> Items(JsonElement o, string name, string id)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array) throw new LineException(id, $"'{name}' must be a list, not {v.ValueKind.ToString().ToLowerInvariant()}");
        return v.EnumerateArray().Select((item, i) => (item.Clone(), i)).ToList();
    }

    /// <summary>The path against the catalog's folder; a URL stays as it is, for the build to name it.</summary>
    private static string Resolve(string folder, string path) =>
        IsUrl(path.Trim()) ? path.Trim() : System.IO.Path.GetFullPath(path.Trim(), folder);

    /// <summary>An http(s) URL, which the build does not fetch (`cmm data download` does).</summary>
    public static bool IsUrl(string path) =>
        path.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One line of text: the tokenizer's corpus is a line per text, so line breaks and other control characters become
    /// spaces, and runs of spaces one. Null when nothing is left.
    /// </summary>
    internal static string? Clean(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            char d = char.IsControl(c) || char.IsWhiteSpace(c) ? ' ' : c;
            if (d == ' ' && (clean.Length == 0 || clean[^1] == ' ')) continue;
            clean.Append(d);
        }
        string result = clean.ToString().TrimEnd();
        if (Encoding.UTF8.GetByteCount(result) > MaxTextBytes) result = Cut(result);
        return result.Length == 0 ? null : result;
    }

    private static string Cut(string text)
    {
        int bytes = 0, chars = 0;
        while (chars < text.Length)
        {
            int step = char.IsSurrogatePair(text, chars) ? 2 : 1;
            int size = Encoding.UTF8.GetByteCount(text.AsSpan(chars, step));
            if (bytes + size > MaxTextBytes) break;
            bytes += size;
            chars += step;
        }
        int space = text.LastIndexOf(' ', chars);
        return (space > chars / 2 ? text[..space] : text[..chars]).TrimEnd();
    }

    /// <summary>The current line is not a usable product.</summary>
    internal sealed class LineException(string? id, string message) : Exception(message)
    {
        public string? Id { get; } = id;
    }
}
