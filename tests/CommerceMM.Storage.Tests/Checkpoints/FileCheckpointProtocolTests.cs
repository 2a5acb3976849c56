using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Storage.Tests.Checkpoints;

public sealed class FileCheckpointProtocolTests : CheckpointProtocolTests, IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly FileBlobStore _store;

    public FileCheckpointProtocolTests()
    {
        _store = new FileBlobStore(_root.Path);
    }

    protected override IBlobStore Store => _store;

    public void Dispose() => _root.Dispose();
}
