using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Storage.Tests.Azure;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Specialized;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// Who may run a job's control plane: one process alone (`cmm train`, a lone `cmm coordinator`, a rollback), or the silos
/// of a multi-silo control plane together, never both; and taking a job on Azure while a dead process's lease still
/// holds it, as a rescheduled coordinator does.
/// </summary>
public sealed class LocalLaunchTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // as the file store
    public async Task SilosShareTheJob_NobodyTakesItAloneWhileOneRuns_NorDoesASiloJoinWhileItIsTakenAlone()
    {
        string runs = Directory.CreateTempSubdirectory("cmm-claims-").FullName;
        try
        {
            var store = new FileBlobStore(runs);
            var spec = SpecSource.Load(null, ["job.name=shared", $"checkpoint.store=file:{runs}"]);
            // Job "shared.b"'s silo names begin with job "shared"'s prefix: they are another job's all the same.
            using (await LocalLaunch.TakeSiloAsync(store, SpecSource.Load(null, ["job.name=shared.b", $"checkpoint.store=file:{runs}"]), CancellationToken.None))
            {
                (await LocalLaunch.TakeAsync(store, spec, "cmm train", CancellationToken.None)).Dispose();
            }

            // A silo killed an hour ago left its claim's files, which nobody holds; the next silo to start deletes them.
            string killed = Path.Combine(runs, ".cmm-store", "owners", $"silo-shared.{Guid.NewGuid():N}.lock");
            using (StoreOwnerLock.TryTake(store, Path.GetFileNameWithoutExtension(killed), "killed", out _)) { }
            File.SetLastWriteTimeUtc(killed, DateTime.UtcNow.AddHours(-1));

            string me = $"cmm coordinator, pid {Environment.ProcessId}, since ";
            using (await LocalLaunch.TakeSiloAsync(store, spec, CancellationToken.None))
            using (await LocalLaunch.TakeSiloAsync(new FileBlobStore(runs), spec, CancellationToken.None))
            {
                Assert.False(File.Exists(killed));
                var train = await Assert.ThrowsAsync<ArgumentException>(() => LocalLaunch.TakeAsync(new FileBlobStore(runs), spec, "cmm train", CancellationToken.None));
                Assert.StartsWith($"job 'shared' runs on a multi-silo control plane from file:{runs} ({me}", train.Message);
                Assert.EndsWith("; 2 silos in all): stop every silo of it first (on Kubernetes, scale the coordinator Deployment to 0; the job's state stays in the store), then run this again", train.Message);
                Assert.True((await LocalLaunch.FindAsync(store, "shared", CancellationToken.None))?.Silo);
            }

            Assert.Empty(StoreOwnerLock.FindOwners(store, "silo-shared."));
            using (await LocalLaunch.TakeAsync(store, spec, "cmm train", CancellationToken.None))
            {
                var silo = await Assert.ThrowsAsync<ArgumentException>(() => LocalLaunch.TakeSiloAsync(new FileBlobStore(runs), spec, CancellationToken.None));
                Assert.StartsWith($"job 'shared' is already running from file:{runs} (cmm train, pid {Environment.ProcessId}, since ", silo.Message);
                Assert.EndsWith("): a multi-silo control plane does not share the job with it: let it finish or stop it (Ctrl+C), then start the silos", silo.Message);
                Assert.Empty(StoreOwnerLock.FindOwners(store, "silo-shared.")); // the refused silo let go of its share
            }
        }
        finally
        {
            Directory.Delete(runs, recursive: true);
        }
    }

    [Fact]
    public async Task OnAzure_ASiloAndAProcessAlone_RefuseEachOther_AcrossClients()
    {
        var store = await azurite.CreateStoreWithNewContainerAsync();
        var other = azurite.CreateStore(store.Container); // another machine's view of the same container
        var spec = SpecSource.Load(null, ["job.name=shared-az", "checkpoint.store=azure:", $"checkpoint.container={store.Container}"]);
        using (await LocalLaunch.TakeSiloAsync(store, spec, CancellationToken.None))
        {
            var train = await Assert.ThrowsAsync<ArgumentException>(() => LocalLaunch.TakeAsync(other, spec, "cmm train", CancellationToken.None));
            Assert.StartsWith($"job 'shared-az' runs on a multi-silo control plane from azure: (cmm coordinator, pid {Environment.ProcessId}, since ", train.Message);
        }

        using (await LocalLaunch.TakeAsync(store, spec, "cmm coordinator", CancellationToken.None))
        {
            var silo = await Assert.ThrowsAsync<ArgumentException>(() => LocalLaunch.TakeSiloAsync(other, spec, CancellationToken.None));
            Assert.StartsWith($"job 'shared-az' is already running from azure: (cmm coordinator, pid {Environment.ProcessId}, since ", silo.Message);
            Assert.Empty(await other.FindOwnersAsync("silo-shared-az."));
        }
    }

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
