using System.Globalization;

namespace CommerceMM.Storage.FileSystem;

/// <summary>
/// The ETag of a file-store blob, kept beside it as a small text file: the ETag plus the size and modification time
/// of the data file it was issued for.
/// </summary>
/// <remarks>
/// The data file and its sidecar are replaced by two renames, which a crash can separate. Recording the data file's
/// size and time lets a reader notice a sidecar that does not describe the file in front of it; such a file (or one
/// put there by hand, with no sidecar) gets an ETag derived from its size and time instead, which every process
/// computes alike and which differs from any ETag issued by a write, so a stale If-Match fails rather than succeeds.
/// </remarks>
internal static class ETagSidecar
{
    /// <summary>A fresh ETag for a new version: random, so a rewrite with equal bytes still gets a new one (as on Azure).</summary>
    public static string NewETag() => $"\"{Guid.NewGuid():N}\"";

    /// <summary>The ETag for a data file with this <paramref name="size"/> and <paramref name="modifiedTicks"/>, given its sidecar (if any).</summary>
    public static string Resolve(string sidecarPath, long size, long modifiedTicks)
    {
        string[]? lines = null;
        try
        {
            lines = File.ReadAllLines(sidecarPath);
        }
        catch (FileNotFoundException)
        {
        }
        catch (DirectoryNotFoundException)
        {
        }

        if (lines is { Length: >= 3 }
            && long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out long recordedSize)
            && long.TryParse(lines[2], NumberStyles.None, CultureInfo.InvariantCulture, out long recordedTicks)
            && recordedSize == size
            && recordedTicks == modifiedTicks)
        {
            return lines[0];
        }

        return string.Create(CultureInfo.InvariantCulture, $"\"f{size:x}-{modifiedTicks:x}\"");
    }

    /// <summary>Atomically replaces the sidecar (temp file, fsync, rename) to describe the data file.</summary>
    public static void Write(string sidecarPath, string tempPath, string etag, long size, long modifiedTicks)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"{etag}\n{size}\n{modifiedTicks}\n");
        using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        FileBlobStore.MoveCreatingDirectory(tempPath, sidecarPath);
    }
}
