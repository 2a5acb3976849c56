using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// The squares an earlier build made, kept under OUT/.image-cache/ by photo (path, size, time) and the options that
/// shape them. Decoding and resizing a camera's photo is nearly all of a build's time (`cmm bench catalog`), so a
/// build stopped part-way, or run again after products were added or edited, redoes only the photos it has not seen.
/// A square is stored as the exact JPEG bytes the shards hold, so a build from the cache writes the same bytes as one
/// without it. After a build, squares of photos it no longer uses are deleted.
/// </summary>
internal sealed class SquareImageCache(string folder, CatalogDatasetOptions options, int builderVersion)
{
    private readonly ConcurrentDictionary<string, byte> _used = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _made = new(StringComparer.Ordinal);
    private int _hits;

    /// <summary>Squares an earlier build had made, read from the cache rather than made again.</summary>
    public int Hits => _hits;

    /// <summary>The stored square of <paramref name="path"/>, made by <paramref name="make"/> (and kept) when the cache has none; null when make fails.</summary>
    public byte[]? GetOrAdd(string path, Func<byte[]?> make)
    {
        var info = new FileInfo(path);
        if (!info.Exists) return make();   // make says why
        string identity = string.Create(CultureInfo.InvariantCulture,
            $"v{builderVersion}|{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{options.ImageSize}|{options.Channels}|{options.JpegQuality}");
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
        string file = Path.Combine(folder, key[..2], key + ".jpg");
        _used[file] = 0;
        if (File.Exists(file))
        {
            if (!_made.ContainsKey(file)) Interlocked.Increment(ref _hits);   // a photo two products share is not an earlier build's
            return File.ReadAllBytes(file);
        }
        byte[]? square = make();
        if (square is null) return null;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // Written aside and renamed: a build killed mid-write leaves no half square to be read as whole.
        string temp = $"{file}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllBytes(temp, square);
        File.Move(temp, file, overwrite: true);
        _made[file] = 0;
        return square;
    }

    /// <summary>Deletes the squares (and leftovers) this build did not use; returns how many.</summary>
    public int Prune()
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            if (!_used.ContainsKey(file))
            {
                File.Delete(file);
                removed++;
            }
        return removed;
    }
}
