using System.Runtime.InteropServices;

namespace CommerceMM.Data.Catalog;

/// <summary>A second name for a file's bytes (POSIX link(2)); .NET creates only symbolic links, which die with their target.</summary>
internal static partial class HardLink
{
    /// <summary>Links <paramref name="existing"/> as <paramref name="link"/>; false where the file system refuses (it has no hard links, or they cross devices).</summary>
    public static bool TryCreate(string existing, string link) => Link(existing, link) == 0;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string link);
}
