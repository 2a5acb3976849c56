using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Cli.Tests;

/// <summary>Where an end-to-end job keeps its checkpoints: the file store in the test's runs folder, or a new Azurite container.</summary>
/// <param name="Args">`cmm` arguments that select the store; they come after the job's own `checkpoint.store=file:…`, so they win</param>
/// <param name="Environment">the variables `cmm` needs to reach the store</param>
internal sealed record CheckpointStoreForCmm(IBlobStore Store, string[] Args, IReadOnlyDictionary<string, string> Environment)
{
    public static async Task<CheckpointStoreForCmm> CreateAsync(bool azure, string runs, AzuriteFixture azurite)
    {
        if (!azure) return new(new FileBlobStore(runs), [], new Dictionary<string, string>());
        var store = await azurite.CreateStoreWithNewContainerAsync();
        return new(store, ["--set", "checkpoint.store=azure:", "--set", $"checkpoint.container={store.Container}"], AzuriteForCmm.Environment(azurite));
    }

    /// <summary>The store's environment and <paramref name="more"/>.</summary>
    public Dictionary<string, string> EnvironmentWith(IReadOnlyDictionary<string, string> more) => new(Environment.Concat(more));
}
