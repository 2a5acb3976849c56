using System.Text;
using CommerceMM.Coordinator.Persistence;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using Orleans.Storage;

namespace CommerceMM.Coordinator.Tests.Persistence;

public sealed class BlobGrainStorageTests : IDisposable
{
    private const string Key = "job-a/coordinator/counter.json";
    private static readonly GrainId Grain = GrainId.Create("cmm.test", "job-a");
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cmm-coord-tests", Guid.NewGuid().ToString("N"));
    private readonly FileBlobStore _store;

    public BlobGrainStorageTests()
    {
        Directory.CreateDirectory(_root);
        _store = new FileBlobStore(_root);
    }

    private sealed record Counter(int Value, string? Note = null);

    /// <summary>The same shape under another name: what a refactoring that renames a state type leaves behind.</summary>
    private sealed record RenamedCounter(int Value, string? Note = null);

    [Fact]
    public async Task ReadStateAsync_NothingStored_RecordDoesNotExist()
    {
        var state = new GrainState<Counter>();

        await new BlobGrainStorage(_store).ReadStateAsync("counter", Grain, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
    }

    [Fact]
    public async Task WriteStateAsync_StateUnchanged_SkipsTheStore()
    {
        var storage = new BlobGrainStorage(_store);
        var state = new GrainState<Counter>(new Counter(1));
        await storage.WriteStateAsync("counter", Grain, state);
        string etag = (await _store.GetPropertiesAsync(Key))!.ETag;

        state.State = new Counter(1);
        await storage.WriteStateAsync("counter", Grain, state);

        Assert.Equal(etag, (await _store.GetPropertiesAsync(Key))!.ETag);
        Assert.Equal(etag, state.ETag);
    }

    [Fact]
    public async Task WriteStateAsync_AnotherWriterWroteFirst_InconsistentStateAndStoreKeepsTheirs()
    {
        var (ours, theirs) = (new BlobGrainStorage(_store), new BlobGrainStorage(_store));
        await ours.WriteStateAsync("counter", Grain, new GrainState<Counter>(new Counter(0)));
        var theirState = new GrainState<Counter>();
        var ourState = new GrainState<Counter>();
        await theirs.ReadStateAsync("counter", Grain, theirState);
        await ours.ReadStateAsync("counter", Grain, ourState);

        theirState.State = new Counter(5);
        await theirs.WriteStateAsync("counter", Grain, theirState);
        ourState.State = new Counter(9);
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => ours.WriteStateAsync("counter", Grain, ourState));

        Assert.Contains(Key, conflict.Message, StringComparison.Ordinal);
        var check = new GrainState<Counter>();
        await new BlobGrainStorage(_store).ReadStateAsync("counter", Grain, check);
        Assert.Equal(5, check.State!.Value);
    }

    [Fact]
    public async Task WriteStateAsync_FirstWriteWhileAnotherCreatedIt_InconsistentState()
    {
        var (ours, theirs) = (new BlobGrainStorage(_store), new BlobGrainStorage(_store));
        await theirs.WriteStateAsync("counter", Grain, new GrainState<Counter>(new Counter(3)));

        await Assert.ThrowsAsync<InconsistentStateException>(() => ours.WriteStateAsync("counter", Grain, new GrainState<Counter>(new Counter(4))));
    }

    [Fact]
    public async Task ReadStateAsync_StateTypeRenamed_ReadsTheStoredState()
    {
        await new BlobGrainStorage(_store).WriteStateAsync("counter", Grain, new GrainState<Counter>(new Counter(7, "kept")));

        var renamed = new GrainState<RenamedCounter>();
        await new BlobGrainStorage(_store).ReadStateAsync("counter", Grain, renamed);

        Assert.Equal(new RenamedCounter(7, "kept"), renamed.State);
        Assert.DoesNotContain(nameof(Counter), await ReadTextAsync(), StringComparison.Ordinal); // no .NET type names stored
    }

    [Fact]
    public async Task ReadStateAsync_WrittenBeforeStateVersions_ReadsIt()
    {
        await PutAsync("""{"value":4,"note":null}""");

        var state = new GrainState<Counter>();
        await new BlobGrainStorage(_store).ReadStateAsync("counter", Grain, state);

        Assert.Equal(4, state.State!.Value);
    }

    [Theory]
    [InlineData("""{"value":4""", "corrupt")]
    [InlineData("""[1,2]""", "corrupt")]
    [InlineData("""{"value":"four"}""", "corrupt")]
    [InlineData("""{"stateVersion":99,"value":4}""", "state version 99")]
    public async Task ReadStateAsync_Unreadable_NamesTheBlobAndLeavesItAsItIs(string stored, string why)
    {
        await PutAsync(stored);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new BlobGrainStorage(_store).ReadStateAsync("counter", Grain, new GrainState<Counter>()));

        Assert.Contains($"'{Key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Equal(stored, await ReadTextAsync());
    }

    private async Task PutAsync(string json) =>
        Assert.True((await _store.PutAsync(Key, new MemoryStream(Encoding.UTF8.GetBytes(json)))).Succeeded);

    private async Task<string> ReadTextAsync()
    {
        await using BlobDownload? download = await _store.OpenReadAsync(Key);
        using var reader = new StreamReader(download!.Content);
        return await reader.ReadToEndAsync();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
