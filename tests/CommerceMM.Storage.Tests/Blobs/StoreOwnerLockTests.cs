using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Storage.Tests.Blobs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")] // as the file store
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
    public void FindOwner_ReadsTheLatestDescription_OnlyWhileTheOwnerHoldsIt()
    {
        using var dir = new TempDirectory();
        var store = new FileBlobStore(dir.Path);
        Assert.Null(StoreOwnerLock.FindOwner(store, "train-j"));

        using (var held = StoreOwnerLock.TryTake(store, "train-j", "starting", out _))
        {
            held!.UpdateOwner("coordinator http://127.0.0.1:1, token t");
            Assert.Equal("coordinator http://127.0.0.1:1, token t", StoreOwnerLock.FindOwner(new FileBlobStore(dir.Path), "train-j"));
            // It may hold a credential: its user's alone.
            string ownerFile = Path.Combine(dir.Path, ".cmm-store", "owners", "train-j.owner");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ownerFile));
        }

        Assert.Null(StoreOwnerLock.FindOwner(store, "train-j")); // the description left behind is no owner
        using var next = StoreOwnerLock.TryTake(store, "train-j", "next", out _);
        Assert.NotNull(next); // looking took nothing for good
    }

    [Fact]
    public void FindOwners_ListsTheHeldNamesWithThePrefix_AndAForgettingOwnerLeavesNoFileBehind()
    {
        using var dir = new TempDirectory();
        var store = new FileBlobStore(dir.Path);
        string owners = Path.Combine(dir.Path, ".cmm-store", "owners");
        Assert.Empty(StoreOwnerLock.FindOwners(store, "silo-j."));

        using var a = StoreOwnerLock.TryTake(store, "silo-j.a", "silo a", out _, forgetOnRelease: true);
        using var b = StoreOwnerLock.TryTake(store, "silo-j.b", "silo b", out _, forgetOnRelease: true);
        using var other = StoreOwnerLock.TryTake(store, "job-j", "alone", out _);
        using (StoreOwnerLock.TryTake(store, "silo-j.gone", "gone", out _)) { } // let go, files kept
        Assert.Equal([("silo-j.a", "silo a"), ("silo-j.b", "silo b")], StoreOwnerLock.FindOwners(new FileBlobStore(dir.Path), "silo-j.").OrderBy(o => o.Name));

        a!.Dispose();
        Assert.Equal([("silo-j.b", "silo b")], StoreOwnerLock.FindOwners(store, "silo-j."));
        Assert.False(File.Exists(Path.Combine(owners, "silo-j.a.lock")));
        Assert.False(File.Exists(Path.Combine(owners, "silo-j.a.owner")));
        Assert.True(File.Exists(Path.Combine(owners, "silo-j.gone.lock")));
        using var again = StoreOwnerLock.TryTake(store, "silo-j.a", "silo a again", out _);
        Assert.NotNull(again);
    }

    [Fact]
    public void PruneUnheld_DeletesTheOldUnheldNamesWithThePrefix_NotAHeldOneNorANewOne()
    {
        using var dir = new TempDirectory();
        var store = new FileBlobStore(dir.Path);
        string owners = Path.Combine(dir.Path, ".cmm-store", "owners");
        using (StoreOwnerLock.TryTake(store, "silo-j.killed", "killed", out _)) { } // as kill -9 leaves it: files, no flock
        using (StoreOwnerLock.TryTake(store, "silo-j.new", "new", out _)) { }
        using (StoreOwnerLock.TryTake(store, "job-j", "alone", out _)) { }
        using var running = StoreOwnerLock.TryTake(store, "silo-j.running", "running", out _);
        var hourAgo = DateTime.UtcNow.AddHours(-1);
        foreach (string name in new[] { "silo-j.killed", "silo-j.running", "job-j" })
            File.SetLastWriteTimeUtc(Path.Combine(owners, name + ".lock"), hourAgo);

        Assert.Equal(1, StoreOwnerLock.PruneUnheld(store, "silo-j.", TimeSpan.FromMinutes(1)));
        Assert.Equal(["job-j.lock", "job-j.owner", "silo-j.new.lock", "silo-j.new.owner", "silo-j.running.lock", "silo-j.running.owner"],
            Directory.EnumerateFileSystemEntries(owners).Select(Path.GetFileName).Order());
        Assert.Equal([("silo-j.running", "running")], StoreOwnerLock.FindOwners(store, "silo-j."));
        Assert.Equal(0, StoreOwnerLock.PruneUnheld(new FileBlobStore(Path.Combine(dir.Path, "empty")), "silo-j.", TimeSpan.Zero));
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
