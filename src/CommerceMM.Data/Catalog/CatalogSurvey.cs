using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// What the build learns from the catalog's first read, product by product, so that it need not hold them: the
/// categories, the held-out split, and the fingerprint of everything that determines the output.
/// </summary>
internal sealed class CatalogSurvey : IDisposable
{
    private readonly IncrementalHash _fingerprint = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly SortedSet<string> _categories = new(StringComparer.Ordinal);

    /// <summary>Hashes the options that shape the output and the catalog's bytes; the products' files follow in <see cref="Add"/>.</summary>
    /// <param name="keptTokenizer">SHA-256 of the tokenizer the build keeps (--tokenizer-from), or null when it trains one</param>
    public CatalogSurvey(string catalogPath, CatalogDatasetOptions options, int builderVersion, string? keptTokenizer)
    {
        Split = new EvalSplit(options.EvalShare);
        AddLine(string.Create(CultureInfo.InvariantCulture,
            $"catalog-builder-v{builderVersion}|size={options.ImageSize}|channels={options.Channels}|eval={options.EvalShare:R}|vocab={options.VocabSize}" +
            $"|shard={options.SamplesPerShard}|q={options.JpegQuality}|seed={options.Seed}"));
        if (keptTokenizer is not null) AddLine($"tokenizer={keptTokenizer}");
        using var file = File.OpenRead(catalogPath);
        _fingerprint.AppendData(SHA256.HashData(file));
    }

    public EvalSplit Split { get; }

    public void Add(CatalogProduct product)
    {
        Split.Observe(product);
        if (product.Category is { } category) _categories.Add(category);
        // Each file's size and time: an image replaced under the same name changes the data set.
        foreach (string path in product.Files)
        {
            var info = new FileInfo(path);
            AddLine(info.Exists ? $"{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}" : $"{path}|missing");
        }
    }

    /// <summary>Each category's number: its place in ordinal order.</summary>
    public Dictionary<string, int> Categories() =>
        _categories.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i, StringComparer.Ordinal);

    /// <summary>Call once, after the last <see cref="Add"/>.</summary>
    public string Fingerprint() => Convert.ToHexStringLower(_fingerprint.GetHashAndReset());

    public void Dispose() => _fingerprint.Dispose();

    private void AddLine(string text) => _fingerprint.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
}
