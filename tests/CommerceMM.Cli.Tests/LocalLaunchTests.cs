using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
using CommerceMM.Storage.Tests.Azure;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Specialized;

namespace CommerceMM.Cli.Tests;

/// <summary>Taking a job on Azure while a dead process's lease still holds it, as a rescheduled coordinator does.</summary>
public sealed class LocalLaunchTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task ACoordinatorWaitsOutADeadHoldersLease_ATrainIsRefusedAtOnce()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        var spec = SpecSource.Load(null, ["job.name=lease-x", "checkpoint.store=azure:", $"checkpoint.container={store.Container}"]);
        // The previous coordinator died on its node: its lease (Azure's shortest, 15 s) is never renewed nor released.
        var blob = new BlobContainerClient(AzuriteForCmm.Environment(azurite).Single().Value, store.Container).GetBlobClient(".cmm-store/owners/job-lease-x.owner");
        await blob.UploadAsync(BinaryData.FromString("{\"command\":\"cmm coordinator\",\"pid\":1,\"since\":\"2026-12-05T00:00:00Z\",\"host\":\"gone\"}"));
        await blob.GetBlobLeaseClient().AcquireAsync(TimeSpan.FromSeconds(15));

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => LocalLaunch.TakeAsync(store, spec, "cmm train", CancellationToken.None));
        Assert.Contains("job 'lease-x' is already running from azure: (cmm coordinator, pid 1 on gone, since 2026-12-05 00:00:00Z)", refused.Message);
        Assert.EndsWith("a process that was killed loses its claim a minute after it died", refused.Message);

        using var taken = await LocalLaunch.TakeAsync(store, spec, "cmm coordinator", CancellationToken.None, waitForLapse: TimeSpan.FromSeconds(40));
        Assert.NotNull(taken);
        Assert.Equal("cmm coordinator", (await LocalLaunch.FindAsync(store, "lease-x", CancellationToken.None))?.Command);
    }
}
