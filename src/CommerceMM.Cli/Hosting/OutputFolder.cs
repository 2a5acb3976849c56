namespace CommerceMM.Cli.Hosting;

/// <summary>
/// A folder an option names, checked before the long work that ends by writing there: a build or an evaluation
/// should not run for minutes and then fail on its first write.
/// </summary>
internal static class OutputFolder
{
    /// <summary>Creates <paramref name="folder"/> if needed and writes and deletes a file in it; otherwise an error naming <paramref name="option"/>.</summary>
    public static void EnsureWritable(string folder, string option)
    {
        string probe = Path.Combine(folder, $".cmm-write-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option} '{folder}': cannot write there ({e.Message}); choose a writable folder", e);
        }
    }
}
