using CommerceMM.Collectives;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Worker;

/// <summary>
/// Heartbeats for a rank while it waits on its peers in a collective. Its step heartbeat cannot come until the
/// collective ends, and when one rank freezes every other rank waits on it: without these, all would go silent together
/// and the coordinator could evict a waiting rank in place of the frozen one (seen with SIGSTOP: it named rank 0 for
/// rank 1's stall). A rank silent outside collectives (hung in its own work, or frozen) still goes overdue.
/// </summary>
internal sealed class PeerWaitKeepAlive : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="interval">the coordinator's heartbeat interval: a wait this long is heartbeated, then once per interval</param>
    /// <param name="heartbeat">sends a heartbeat of the step this rank is at (no step time: the step has not ended)</param>
    public PeerWaitKeepAlive(ProcessGroup group, TimeSpan interval, Func<CancellationToken, Task> heartbeat, ILogger log)
    {
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), interval, "the heartbeat interval must be positive");
        _loop = RunAsync(group, interval, heartbeat, log, _stop.Token);
    }

    private static async Task RunAsync(ProcessGroup group, TimeSpan interval, Func<CancellationToken, Task> heartbeat, ILogger log, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (group.WaitingOnPeersFor is not { } waited || waited < interval) continue;
                try
                {
                    await heartbeat(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The step loop's own heartbeat acts on the coordinator's answers and reports its failures.
                    log.LogDebug("heartbeat while waiting {Waited:F1} s on peers not taken: {Problem}", waited.TotalSeconds, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
