using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Cli.Inspection;

/// <summary>
/// The files of a data set, local or in a blob store, handed to CommerceMM.Data's readers as local files: its
/// readers and checks (DatasetManifest.Read, ShardReader.Open with verify) take a folder, so a blob-store data set is
/// downloaded file by file into a private temporary folder and each file is deleted once it has been checked.
/// </summary>
internal abstract class DataSetFiles : IDisposable
{
    /// <summary>Where the data set is, for messages.</summary>
    public abstract string Where { get; }

    /// <summary>The local folder the readers open (the data set itself, or the temporary copy).</summary>
    public abstract string Root { get; }

    /// <summary>Makes <paramref name="relative"/> present under <see cref="Root"/>; false when the data set has no such file.</summary>
    public abstract Task<bool> FetchAsync(string relative, CancellationToken cancellationToken);

    /// <summary>Done with a fetched file (a temporary copy is deleted; a local data set is left alone).</summary>
    public virtual void Release(string relative) { }

    public virtual void Dispose() { }

    /// <summary>DIR, or azure:CONTAINER/PATH (credentials from CMM_AZURE_CONNECTION_STRING or the other CMM_AZURE_* variables).</summary>
    public static DataSetFiles Open(string source)
    {
        if (!AzureFolder.IsAzure(source)) return new Local(source);
        var (store, prefix) = AzureFolder.Open(source);
        return new Blobs(store, source, prefix);
    }

    private sealed class Local(string directory) : DataSetFiles
    {
        public override string Where => directory == Path.GetFullPath(directory) ? directory : $"{directory} ({Path.GetFullPath(directory)})";
        public override string Root => directory;

        public override Task<bool> FetchAsync(string relative, CancellationToken cancellationToken) => Task.FromResult(File.Exists(Path.Combine(directory, relative)));
    }

    private sealed class Blobs(IBlobStore store, string source, string prefix) : DataSetFiles
    {
        private readonly string _temp = Directory.CreateTempSubdirectory("cmm-data-inspect-").FullName;

        public override string Where => $"{source} ({store})";
        public override string Root => _temp;

        public override async Task<bool> FetchAsync(string relative, CancellationToken cancellationToken)
        {
            if (store is AzureBlobStore azure) await azure.VerifyAsync(cancellationToken).ConfigureAwait(false);
            string key = prefix + relative;
            await using var download = await store.OpenReadAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (download is null) return false;
            string path = Path.Combine(_temp, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var file = File.Create(path);
            // The store checks what it hands out (Azure: the stored MD5); a mismatch throws, naming the key, and nothing is kept.
            await download.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            return true;
        }

        public override void Release(string relative) => File.Delete(Path.Combine(_temp, relative));

        public override void Dispose() => Directory.Delete(_temp, recursive: true);
    }
}
