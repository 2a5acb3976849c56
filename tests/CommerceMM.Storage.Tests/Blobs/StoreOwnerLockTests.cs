using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Storage.Tests.Blobs;

public class StoreOwnerLockTests
{
    [Fact]
    public void SecondTaker_IsRefusedAndToldTheOwner_UntilTheOwnerLetsGo()
    {
        using var dir = new TempDirectory();
        var store = new FileBlobStore(dir.Path);

        using (var first = StoreOwnerLock.TryTake(store, "train-job-a", "pid 1", out _))
        {
            Assert.NotNull(first);
            // flock belongs to an open file description: a second open, even in this process, is another owner.
            Assert.Null(StoreOwnerLock.TryTake(new FileBlobStore(dir.Path), "train-job-a", "pid 2", out string? owner));
            Assert.Equal("pid 1", owner);
            using var other = StoreOwnerLock.TryTake(store, "train-job-b", "pid 3", out _);
            Assert.NotNull(other);
        }

        using var next = StoreOwnerLock.TryTake(store, "train-job-a", "pid 4", out string? now);
        Assert.NotNull(next);
        Assert.Equal("pid 4", now);
    }

    [Fact]
    public void TheLock_IsNoBlob()
    {
        using var dir = new TempDirectory();
        var store = new FileBlobStore(dir.Path);
        using var owned = StoreOwnerLock.TryTake(store, "train-x", "me", out _);
        Assert.Empty(store.ListAsync("").ToBlockingEnumerable());
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void ANameThatIsNoPlainFileName_IsRefused(string name)
    {
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentException>(() => StoreOwnerLock.TryTake(new FileBlobStore(dir.Path), name, "me", out _));
    }
}
