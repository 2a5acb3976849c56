using System.Diagnostics;
using CommerceMM.Collectives;
using CommerceMM.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace CommerceMM.Cli.Tests;

public sealed class PeerWaitKeepAliveTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly string _store = Directory.CreateTempSubdirectory("cmm-keepalive-").FullName;

    public void Dispose() => Directory.Delete(_store, recursive: true);

    [Fact]
    public async Task Heartbeats_OnlyWhileTheRankWaitsOnItsPeers_AndStopWhenDisposed()
    {
        var groups = await Task.WhenAll(Enumerable.Range(0, 2).Select(rank => Task.Run(() =>
            ProcessGroup.Create(new FileRendezvousStore(_store), rank, 2, torch.CPU, TimeSpan.FromMinutes(1)))));
        try
        {
            int beats = 0;
            var keepAlive = new PeerWaitKeepAlive(groups[0], Interval, _ => { Interlocked.Increment(ref beats); return Task.CompletedTask; }, NullLogger.Instance);

            await Task.Delay(Interval * 5);
            Assert.Equal(0, Volatile.Read(ref beats)); // training, not waiting: the step heartbeats suffice

            var waited = Stopwatch.StartNew();
            var waiting = Task.Run(() => { using var t = torch.ones(4); groups[0].AllReduce(t); });
            await Task.Delay(Interval * 8); // rank 1 comes 1.6 s late
            using (var t = torch.ones(4)) groups[1].AllReduce(t);
            await waiting;
            var wait = waited.Elapsed;
            await Task.Delay(Interval); // a beat decided just before the wait ended lands now
            int whileWaiting = Volatile.Read(ref beats);
            Assert.InRange(whileWaiting, 3, (int)(wait / Interval) + 1); // about one an interval, from the second interval of the wait on

            await Task.Delay(Interval * 5);
            Assert.Equal(whileWaiting, Volatile.Read(ref beats)); // the wait is over

            var disposing = Stopwatch.StartNew();
            await keepAlive.DisposeAsync();
            Assert.True(disposing.Elapsed < TimeSpan.FromSeconds(5), $"disposing took {disposing.Elapsed}");
        }
        finally
        {
            foreach (var group in groups.Reverse()) group.Dispose();
        }
    }
}
