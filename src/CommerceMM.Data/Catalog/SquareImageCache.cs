using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using CommerceMM.Data.Format;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// The squares earlier builds made, by photo (path, size, time) and the options that shape them, under OUT/.image-cache/.
/// Decoding and resizing a camera's photo is nearly all of a build's time (`cmm bench catalog`), so a build stopped
/// part-way, or run again after products were added or edited, redoes only the photos it has not seen.
/// <para>
/// While a build runs, each square it makes is also kept as a loose file, so a build stopped part-way loses none. A
/// finished build keeps no copy: its shards hold every square, so the cache takes hard links to them (no extra disk)
/// and an index of where each square lies; the next build reads from those, and may delete and rewrite the shards'
/// names meanwhile. Squares are stored as the exact JPEG bytes the shards hold, so a build from the cache writes the
/// same bytes as one without it, and each is checked against its SHA-256 when read back.
/// </para>
/// </summary>
internal sealed class SquareImageCache
{
    private const string IndexFile = "index.tsv";
    private const string LinkFolderPrefix = "shards-";

    private readonly string _folder;
    private readonly CatalogDatasetOptions _options;
    private readonly int _builderVersion;
    // Keys and checksums are the first 128 bits of SHA-256s: a million squares' index fits in about 80 MB.
    /// <summary>Where the last finished build stored each square: the shards this cache links, by key.</summary>
    private readonly Dictionary<UInt128, Kept> _kept;
    private readonly ConcurrentDictionary<UInt128, byte> _made = new();
    /// <summary>The squares handed out, by array, so that <see cref="Stored"/> learns whose bytes the writer placed.</summary>
    private readonly ConditionalWeakTable<byte[], StrongBox<UInt128>> _handedOut = new();
    private readonly Dictionary<UInt128, Kept> _stored = new();
    private int _hits;

    /// <param name="File">relative to the cache folder</param>
    private readonly record struct Kept(string File, long Offset, int Length, UInt128 Sha256);

    public SquareImageCache(string folder, CatalogDatasetOptions options, int builderVersion)
    {
        _folder = folder;
        _options = options;
        _builderVersion = builderVersion;
        _kept = ReadIndex(Path.Combine(folder, IndexFile));
    }

    /// <summary>Squares an earlier build had made, read from the cache rather than made again.</summary>
    public int Hits => _hits;

    /// <summary>The stored square of <paramref name="path"/>, made by <paramref name="make"/> (and kept) when the cache has none; null when make fails.</summary>
    public byte[]? GetOrAdd(string path, Func<byte[]?> make)
    {
        var info = new FileInfo(path);
        if (!info.Exists) return make();   // make says why
        string identity = string.Create(CultureInfo.InvariantCulture,
            $"v{_builderVersion}|{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{_options.ImageSize}|{_options.Channels}|{_options.JpegQuality}");
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(identity));
        var key = BinaryPrimitives.ReadUInt128BigEndian(hash);
        string loose = LoosePath(key);
        byte[]? square = File.Exists(loose) ? File.ReadAllBytes(loose) : _kept.TryGetValue(key, out var kept) ? ReadKept(kept) : null;
        if (square is not null)
        {
            if (!_made.ContainsKey(key)) Interlocked.Increment(ref _hits);   // a photo two products share is not an earlier build's
        }
        else
        {
            square = make();
            if (square is null) return null;
            Directory.CreateDirectory(Path.GetDirectoryName(loose)!);
            // Written aside and renamed: a build killed mid-write leaves no half square to be read as whole.
            string temp = $"{loose}.{Environment.CurrentManagedThreadId}.tmp";
            File.WriteAllBytes(temp, square);
            File.Move(temp, loose, overwrite: true);
            _made[key] = 0;
        }
        _handedOut.AddOrUpdate(square, new StrongBox<UInt128>(key));
        return square;
    }

    /// <summary>Notes where the shard writer put a part; parts that are not squares of this cache are ignored.</summary>
    public void Stored(StoredPart part)
    {
        if (!_handedOut.TryGetValue(part.Bytes, out var key) || _stored.ContainsKey(key.Value)) return;
        _stored[key.Value] = new Kept(part.File, part.Offset, part.Bytes.Length, Checksum(part.Bytes));
    }

    /// <summary>
    /// After a finished build (its shards under <paramref name="root"/> written and final): keeps the squares this build
    /// used as links to its shards and an index, and deletes everything else, loose squares and older links alike.
    /// </summary>
    public void Commit(string root)
    {
        Directory.CreateDirectory(_folder);
        string linksName = LinkFolderPrefix + DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);
        string links = Path.Combine(_folder, linksName);
        var linked = new Dictionary<string, bool>(StringComparer.Ordinal);
        bool Link(string shard)
        {
            if (linked.TryGetValue(shard, out bool ok)) return ok;
            string target = Path.Combine(links, shard);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            return linked[shard] = HardLink.TryCreate(Path.Combine(root, shard), target);
        }
        string indexPath = Path.Combine(_folder, IndexFile);
        var keep = new HashSet<string>(StringComparer.Ordinal) { indexPath };   // and squares whose shard could not be linked stay loose
        string temp = indexPath + ".tmp";
        using (var index = new StreamWriter(temp, append: false, new UTF8Encoding(false)))
            foreach (var (key, at) in _stored.OrderBy(s => s.Key))
            {
                if (Link(at.File))
                    index.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{key:x32}\t{linksName}/{at.File}\t{at.Offset}\t{at.Length}\t{at.Sha256:x32}"));
                else keep.Add(LoosePath(key));
            }
        File.Move(temp, indexPath, overwrite: true);   // the switch: the index names only complete links

        foreach (string file in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).ToList())
            if (!keep.Contains(file) && !file.StartsWith(links + Path.DirectorySeparatorChar, StringComparison.Ordinal)) File.Delete(file);
        foreach (string dir in Directory.EnumerateDirectories(_folder))
            if (!Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Any()) Directory.Delete(dir, recursive: true);
    }

    private string LoosePath(UInt128 key)
    {
        string hex = key.ToString("x32", CultureInfo.InvariantCulture);
        return Path.Combine(_folder, hex[..2], hex + ".jpg");
    }

    private static UInt128 Checksum(byte[] bytes) => BinaryPrimitives.ReadUInt128BigEndian(SHA256.HashData(bytes));

    /// <summary>The kept square, or null when its link is gone or its bytes are not what was stored (it is made again).</summary>
    private byte[]? ReadKept(Kept kept)
    {
        string path = Path.Combine(_folder, kept.File);
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
            var bytes = new byte[kept.Length];
            if (RandomAccess.Read(file, bytes, kept.Offset) != kept.Length) return null;
            return Checksum(bytes) == kept.Sha256 ? bytes : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The index a finished build wrote; lines that do not parse (a damaged file) are left out, so their squares are made again.</summary>
    private static Dictionary<UInt128, Kept> ReadIndex(string path)
    {
        var kept = new Dictionary<UInt128, Kept>();
        if (!File.Exists(path)) return kept;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);   // one string per linked shard, not per square
        foreach (string line in File.ReadLines(path))
        {
            string[] f = line.Split('\t');
            if (f.Length == 5 && !f[1].Contains("..", StringComparison.Ordinal)
                && UInt128.TryParse(f[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var key)
                && long.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out long offset)
                && int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                && UInt128.TryParse(f[4], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var sha))
            {
                if (!files.TryGetValue(f[1], out string? file)) files[f[1]] = file = f[1];
                kept[key] = new Kept(file, offset, length, sha);
            }
        }
        return kept;
    }
}
