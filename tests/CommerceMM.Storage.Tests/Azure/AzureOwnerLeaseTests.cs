using CommerceMM.Storage.Azure;
using global::Azure.Storage.Blobs.Specialized;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Owner locks on real Azurite: a lease that one process at a time holds, that others can read, and that lapses.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureOwnerLeaseTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task TakeWhileHeld_IsRefusedWithTheOwnersDescription_AndTakenOnceReleased()
    {
        AzureBlobStore store = await azurite.CreateStoreWithNewContainerAsync();
        // A second process's view: its own client on the same container.
        AzureBlobStore other = azurite.CreateStore(store.Container);

        var (first, _) = await store.TryTakeOwnerAsync("job-x", "{\"pid\":1}");
        Assert.NotNull(first);
        first!.UpdateOwner("{\"pid\":1,\"coordinator\":\"http://a:7070/\"}");
        var (refused, owner) = await other.TryTakeOwnerAsync("job-x", "{\"pid\":2}");
        Assert.Null(refused);
        Assert.Equal("{\"pid\":1,\"coordinator\":\"http://a:7070/\"}", owner);
        Assert.Equal(owner, await other.FindOwnerAsync("job-x"));
        Assert.NotNull((await other.TryTakeOwnerAsync("job-y", "{\"pid\":2}")).Taken); // another name is another lock

        first.Dispose();

        Assert.Null(await other.FindOwnerAsync("job-x"));
        var (second, now) = await other.TryTakeOwnerAsync("job-x", "{\"pid\":2}");
        using (second)
        {
            Assert.NotNull(second);
            Assert.Equal("{\"pid\":2}", now);
        }
    }

    [Fact]
    public async Task FindOwners_ListsTheHeldNamesWithThePrefix_AndAForgettingOwnerLeavesNoBlobBehind()
    {
        AzureBlobStore store = await azurite.CreateStoreWithNewContainerAsync();
        AzureBlobStore other = azurite.CreateStore(store.Container);
        Assert.Empty(await other.FindOwnersAsync("silo-j."));

        var (a, _) = await store.TryTakeOwnerAsync("silo-j.a", "silo a", forgetOnRelease: true);
        var (b, _) = await store.TryTakeOwnerAsync("silo-j.b", "silo b", forgetOnRelease: true);
        var (alone, _) = await store.TryTakeOwnerAsync("job-j", "alone");
        (await store.TryTakeOwnerAsync("silo-j.gone", "gone")).Taken!.Dispose(); // let go, blob kept
        using (b)
        using (alone)
        {
            Assert.Equal([("silo-j.a", "silo a"), ("silo-j.b", "silo b")], (await other.FindOwnersAsync("silo-j.")).OrderBy(o => o.Name));

            a!.Dispose();
            Assert.Equal([("silo-j.b", "silo b")], await other.FindOwnersAsync("silo-j."));
            Assert.False(await store.OwnerBlob("silo-j.a").ExistsAsync());
            Assert.True(await store.OwnerBlob("silo-j.gone").ExistsAsync());
            Assert.NotNull((await other.TryTakeOwnerAsync("silo-j.a", "silo a again")).Taken);
        }
    }

    [Fact]
    public async Task PruneUnheldOwners_DeletesTheUnheldBlobsWithThePrefix_PastTheirAge_NotAHeldOne()
    {
        AzureBlobStore store = await azurite.CreateStoreWithNewContainerAsync();
        (await store.TryTakeOwnerAsync("silo-j.killed", "killed")).Taken!.Dispose(); // as a lapsed lease leaves it: the blob, no lease
        (await store.TryTakeOwnerAsync("job-j", "alone")).Taken!.Dispose();
        var (running, _) = await store.TryTakeOwnerAsync("silo-j.running", "running", forgetOnRelease: true);
        using (running)
        {
            Assert.Equal(0, await store.PruneUnheldOwnersAsync("silo-j.", TimeSpan.FromHours(1))); // written just now
            Assert.Equal(1, await store.PruneUnheldOwnersAsync("silo-j.", TimeSpan.Zero));
            Assert.False(await store.OwnerBlob("silo-j.killed").ExistsAsync());
            Assert.True(await store.OwnerBlob("job-j").ExistsAsync());
            Assert.Equal([("silo-j.running", "running")], await store.FindOwnersAsync("silo-j."));
        }
    }

    [Fact]
    public async Task AHolder_KeepsItsClaimPastTheLeaseDuration_ByRenewingIt()
    {
        AzureBlobStore store = await azurite.CreateStoreWithNewContainerAsync(o => o.OwnerLeaseDuration = TimeSpan.FromSeconds(15));

        var (held, _) = await store.TryTakeOwnerAsync("job-x", "{\"pid\":1}");
        using (held)
        {
            await Task.Delay(TimeSpan.FromSeconds(20));
            Assert.Null((await store.TryTakeOwnerAsync("job-x", "{\"pid\":2}")).Taken);
            Assert.Equal("{\"pid\":1}", await store.FindOwnerAsync("job-x"));
        }
    }

    [Fact]
    public async Task AHolderThatStopsRenewing_KilledSay_LosesItsClaimOneLeaseLater()
    {
        AzureBlobStore store = await azurite.CreateStoreWithNewContainerAsync();
        // A holder killed with kill -9: it took the lease (at Azure's shortest duration) and never renews or releases it.
        var dead = store.OwnerBlob("job-x");
        await dead.UploadAsync(BinaryData.FromString("{\"pid\":1}"));
        await dead.GetBlobLeaseClient().AcquireAsync(TimeSpan.FromSeconds(15));

        var (refused, owner) = await store.TryTakeOwnerAsync("job-x", "{\"pid\":2}");
        Assert.Null(refused);
        Assert.Equal("{\"pid\":1}", owner);
        await Task.Delay(TimeSpan.FromSeconds(16));

        var (taken, now) = await store.TryTakeOwnerAsync("job-x", "{\"pid\":2}");
        using (taken)
        {
            Assert.NotNull(taken);
            Assert.Equal("{\"pid\":2}", now);
        }
    }
}
