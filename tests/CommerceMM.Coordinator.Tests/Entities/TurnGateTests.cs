using CommerceMM.Coordinator.Entities;

namespace CommerceMM.Coordinator.Tests.Entities;

public sealed class TurnGateTests
{
    [Fact]
    public async Task RunAsync_ConcurrentTurnsWithAwaits_NeverOverlap()
    {
        var gate = new TurnGate();
        int inside = 0, maxInside = 0, counter = 0;

        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => gate.RunAsync(async () =>
        {
            int now = Interlocked.Increment(ref inside);
            maxInside = Math.Max(maxInside, now);
            int read = counter;
            await Task.Yield(); // a turn that awaits still owns the entity: no other turn may interleave here
            counter = read + 1;
            Interlocked.Decrement(ref inside);
            return 0;
        }))));

        Assert.Equal(1, maxInside);
        Assert.Equal(64, counter);
        Assert.Equal(64, gate.TurnsStarted);
    }

    [Fact]
    public async Task RunAsync_TurnThrows_NextTurnStillRuns()
    {
        var gate = new TurnGate();

        await Assert.ThrowsAsync<InvalidOperationException>(() => gate.RunAsync<int>(() => throw new InvalidOperationException("boom")));
        int value = await gate.RunAsync(() => Task.FromResult(7));

        Assert.Equal(7, value);
    }
}
