using System.Text;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Storage.Tests.Blobs;

/// <summary>The shared blob-store behaviour against <see cref="FileBlobStore"/>, plus what only a file store can show.</summary>
public sealed class FileBlobStoreTests : BlobStoreContractTests, IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly FileBlobStore _store;

    public FileBlobStoreTests()
    {
        _store = new FileBlobStore(_root.Path);
    }

    protected override IBlobStore Store => _store;

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task PutAsync_Written_IsPlainFileUnderRoot()
    {
        await PutTextAsync("plain/file.txt", "readable by anyone");

        Assert.Equal("readable by anyone", File.ReadAllText(Path.Combine(_root.Path, Key("plain/file.txt"))));
    }

    [Fact]
    public async Task PutAsync_ConditionNotMet_LeavesNoTempFile()
    {
        await PutTextAsync("x", "1");

        await PutTextAsync("x", "2", BlobCondition.IfNoneMatchAny);

        Assert.Empty(Directory.GetFiles(Path.Combine(_root.Path, ".cmm-store", "tmp")));
    }

    [Fact]
    public async Task PutAsync_TwoStoresOnOneRootRacingCreates_ExactlyOneWins()
    {
        // Two instances share no in-process lock, so only the flock on the stripe file keeps them apart, as between processes.
        var other = new FileBlobStore(_root.Path);

        BlobWriteResult[] results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? Store : other).PutAsync(Key("race"), new MemoryStream(Encoding.UTF8.GetBytes($"w{i}")), BlobCondition.IfNoneMatchAny)));

        Assert.Single(results, r => r.Succeeded);
    }

    [Fact]
    public async Task PutAsync_TwoStoresOnOneRootIncrementing_LoseNoUpdate()
    {
        var other = new FileBlobStore(_root.Path);
        await PutTextAsync("counter", "0");

        await Task.WhenAll(IncrementAsync(Store, Key("counter"), 6), IncrementAsync(other, Key("counter"), 6));

        Assert.Equal("12", await ReadTextAsync("counter"));
    }

    [Fact]
    public async Task PutAsync_FileReplacedBehindTheStoresBack_StaleIfMatchFails()
    {
        // Stands in for a crash between the data rename and the ETag sidecar rename: the sidecar no longer describes the file.
        BlobWriteResult written = await PutTextAsync("edited", "original");
        File.WriteAllText(Path.Combine(_root.Path, Key("edited")), "edited by hand, longer");

        BlobProperties? properties = await Store.GetPropertiesAsync(Key("edited"));
        BlobWriteResult stale = await PutTextAsync("edited", "overwrite", BlobCondition.IfMatch(written.ETag!));

        Assert.NotEqual(written.ETag, properties!.ETag);
        Assert.Equal(BlobWriteStatus.ConditionNotMet, stale.Status);
        Assert.True((await PutTextAsync("edited", "overwrite", BlobCondition.IfMatch(properties.ETag))).Succeeded);
    }

    [Fact]
    public async Task ListAsync_EmptyPrefix_ListsDataButNotTheStoresOwnFiles()
    {
        await PutTextAsync("a", "1");

        List<BlobProperties> all = await ListAsync("");

        Assert.Equal(new[] { Key("a") }, all.Select(p => p.Key));
    }

    [Fact]
    public async Task DeleteAsync_LastBlobInFolder_RemovesEmptyFolders()
    {
        await PutTextAsync("deep/er/blob", "x");

        await Store.DeleteAsync(Key("deep/er/blob"));

        Assert.False(Directory.Exists(Path.Combine(_root.Path, Key("deep"))));
    }

    [Fact]
    public async Task OpenReadAsync_OverwrittenWhileOpen_KeepsReadingTheOpenedVersion()
    {
        await PutTextAsync("v", "old version");
        await using BlobDownload? download = await Store.OpenReadAsync(Key("v"));

        await PutTextAsync("v", "new version");

        Assert.Equal("old version", await new StreamReader(download!.Content).ReadToEndAsync());
    }
}
