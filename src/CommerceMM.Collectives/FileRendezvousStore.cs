namespace CommerceMM.Collectives;

/// <summary>
/// A rendezvous store in a directory that every process can see: one file per key, written under a
/// temporary name and renamed into place, so a reader sees a whole value or none. Get polls. For
/// tests and benches whose processes share a file system (<c>cmm bench engine</c>, the peer tests);
/// training jobs meet through the coordinator. Give each group generation its own directory.
/// </summary>
public sealed class FileRendezvousStore : IRendezvousStore
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    public FileRendezvousStore(string directory) => Directory = directory;

    public string Directory { get; }

    public void Set(string key, byte[] value)
    {
        string path = PathOf(key);
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, value); // throws DirectoryNotFoundException naming the path if the store is gone
        File.Move(temporary, path, overwrite: true);
    }

    public byte[] Get(string key, TimeSpan timeout)
    {
        string path = PathOf(key);
        var deadline = DateTime.UtcNow + timeout;
        for (;;)
        {
            if (!System.IO.Directory.Exists(Directory)) throw new DirectoryNotFoundException($"rendezvous directory '{Directory}' does not exist");
            if (File.Exists(path)) return File.ReadAllBytes(path);
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"key '{key}' did not appear in rendezvous directory '{Directory}' within {timeout}");
            Thread.Sleep(PollInterval);
        }
    }

    // Keys hold '/' (per-group prefixes): escape them into one file name.
    private string PathOf(string key) => Path.Combine(Directory, Uri.EscapeDataString(key));
}
