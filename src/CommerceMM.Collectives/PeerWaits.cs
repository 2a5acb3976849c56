using System.Diagnostics;

namespace CommerceMM.Collectives;

/// <summary>
/// The calls of a group (and of the groups made from it) that are blocked waiting on peers. A worker reads
/// <see cref="Longest"/> to keep heartbeating while a peer holds it up: its step heartbeat cannot come until the
/// collective ends, and a rank silent for that reason looks to the coordinator like the peer that froze.
/// </summary>
internal sealed class PeerWaits
{
    private readonly Lock _gate = new();
    private int _blocked;
    private long _since; // when the current unbroken run of blocked calls began

    /// <summary>How long calls have been blocked without a break; null when none is.</summary>
    public TimeSpan? Longest
    {
        get
        {
            lock (_gate) return _blocked == 0 ? null : Stopwatch.GetElapsedTime(_since);
        }
    }

    /// <summary>Marks a call blocked until the returned scope is disposed.</summary>
    public Scope Enter()
    {
        lock (_gate)
        {
            if (_blocked++ == 0) _since = Stopwatch.GetTimestamp();
        }
        return new Scope(this);
    }

    private void Exit()
    {
        lock (_gate) _blocked--;
    }

    public readonly struct Scope(PeerWaits waits) : IDisposable
    {
        public void Dispose() => waits.Exit();
    }
}
