using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities;
using CommerceMM.Coordinator.Entities.Abstractions;
using CommerceMM.Coordinator.Entities.Jobs;
using CommerceMM.Coordinator.Persistence;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Coordinator.Tests.Persistence;

public sealed class PersistentStateTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cmm-coord-tests", Guid.NewGuid().ToString("N"));
    private readonly FileBlobStore _store;

    public PersistentStateTests()
    {
        Directory.CreateDirectory(_root);
        _store = new FileBlobStore(_root);
    }

    private sealed record Counter(int Value);

    [Fact]
    public async Task WriteAsync_StateUnchanged_SkipsTheStore()
    {
        var state = new PersistentState<Counter>(_store, "job-a/coordinator/counter.json", new Counter(1));
        Assert.Equal(StateWriteStatus.Written, await state.WriteAsync(default));
        BlobProperties? before = await _store.GetPropertiesAsync("job-a/coordinator/counter.json");

        state.State = new Counter(1);
        StateWriteStatus second = await state.WriteAsync(default);

        Assert.Equal(StateWriteStatus.Unchanged, second);
        Assert.Equal(before!.ETag, (await _store.GetPropertiesAsync("job-a/coordinator/counter.json"))!.ETag);
    }

    [Fact]
    public async Task WriteAsync_AnotherWriterWroteFirst_ConflictAndStoreKeepsTheirs()
    {
        var ours = new PersistentState<Counter>(_store, "job-a/coordinator/counter.json", new Counter(0));
        var theirs = new PersistentState<Counter>(_store, "job-a/coordinator/counter.json", new Counter(0));
        await ours.WriteAsync(default);
        await theirs.ReadAsync(default);
        await ours.ReadAsync(default);

        theirs.State = new Counter(5);
        Assert.Equal(StateWriteStatus.Written, await theirs.WriteAsync(default));
        ours.State = new Counter(9);
        StateWriteStatus status = await ours.WriteAsync(default);

        Assert.Equal(StateWriteStatus.Conflict, status);
        var check = new PersistentState<Counter>(_store, "job-a/coordinator/counter.json", new Counter(-1));
        await check.ReadAsync(default);
        Assert.Equal(5, check.State.Value);
    }

    [Fact]
    public async Task AdvanceGenerationAsync_TwoCoordinatorsOnOneStore_SecondGetsTypedConflictThenSeesTheFirst()
    {
        var time = new ManualTimeProvider();
        var spec = new JobSpec("job-a", Workers: 2);
        var first = new JobEntity(spec, _store, time);
        var second = new JobEntity(spec, _store, time);
        await first.GetAsync();
        await second.GetAsync();

        EntityResult<JobSnapshot> won = await first.AdvanceGenerationAsync(1, "rank 1 lost");
        EntityResult<JobSnapshot> lost = await second.AdvanceGenerationAsync(1, "rank 0 lost");
        JobSnapshot reread = await second.GetAsync();

        Assert.Equal(2, won.Value!.Generation);
        Assert.Equal(EntityStatus.Conflict, lost.Status);
        Assert.Contains("ETag", lost.Message, StringComparison.Ordinal);
        Assert.Equal((2L, "rank 1 lost"), (reread.Generation, reread.Reason));
    }

    [Fact]
    public async Task GetAsync_ReactivatedWithSameSpecIncludingConfig_WritesNothing()
    {
        var time = new ManualTimeProvider();
        var spec = new JobSpec("job-a", Workers: 2, Config: System.Text.Json.JsonDocument.Parse("""{"model":{"layers":2}}""").RootElement);
        await new JobEntity(spec, _store, time).GetAsync();
        string etag = (await _store.GetPropertiesAsync("job-a/coordinator/job.json"))!.ETag;

        JobSnapshot again = await new JobEntity(spec, _store, time).GetAsync();

        Assert.Equal(etag, (await _store.GetPropertiesAsync("job-a/coordinator/job.json"))!.ETag);
        Assert.Equal(2, again.Spec.Config!.Value.GetProperty("model").GetProperty("layers").GetInt32());
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
