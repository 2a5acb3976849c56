using CommerceMM.Cli.Hosting;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using CommerceMM.Worker.Training;

namespace CommerceMM.Cli.Tests;

[Collection(EndToEndCollection.Name)]
public sealed class SessionSnapshotTests(SmallCorpus corpus)
{
    [Fact]
    public async Task FirstSnapshotOfASession_CopiesIntoPooledBuffers_AllocatingNoneOfTheState()
    {
        var spec = SpecSource.Load(null, [$"data.dir={corpus.Directory}", "data.batch_size=8", "model.prototypes=32"]);
        await using var session = await TrainingSession.OpenAsync(spec, DeviceSettings.Cpu, rank: 0, worldSize: 1, group: null, restore: null);

        long before = GC.GetAllocatedBytesForCurrentThread();
        CheckpointSnapshot snapshot = session.Snapshot();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        long state = snapshot.Replicated.Sum(f => (long)f.Content.Length);
        snapshot.Release?.Invoke();
        Assert.True(state > 1 << 20, $"{state} bytes of state");
        Assert.True(allocated < state / 10, $"the first save allocated {allocated} bytes for {state} bytes of state: its buffers were not pooled when the session opened");
    }
}
