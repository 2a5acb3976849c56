using CommerceMM.Worker;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// Whether `cmm train` starts one of its exited workers again. A worker that keeps crashing soon after it starts is in a
/// crash loop (a bug at startup, a machine it cannot run on), and starting it forever helps nobody. One that ran a while
/// before it crashed (killed, out of memory) is not, however often that happens over a long job, so its count starts
/// over: a lifetime count would drop a worker for good at its fourth crash in a week-long job. Exit 75 is no crash at all:
/// the worker was told to go (preempted alone, it left after its checkpoint), so it is always started again.
/// </summary>
internal sealed class CrashLoopGuard
{
    /// <summary>Quick crashes in a row before the launcher gives up on the worker.</summary>
    public const int MaxQuickCrashes = 3;

    /// <summary>A run at least this long was not a crash loop: startup (libtorch, join, restore) takes seconds, and a peer's wait at most 30 s.</summary>
    public static readonly TimeSpan QuickCrash = TimeSpan.FromMinutes(1);

    /// <summary>Quick crashes in a row so far (0 after a long run).</summary>
    public int QuickCrashes { get; private set; }

    /// <summary>Whether the launcher has given up on the worker: it crashed quickly more than <see cref="MaxQuickCrashes"/> times in a row.</summary>
    public bool GaveUp => QuickCrashes > MaxQuickCrashes;

    /// <summary>Whether the last exit recorded was a quick crash.</summary>
    public bool LastWasQuickCrash { get; private set; }

    /// <summary>Records an exit with <paramref name="exitCode"/> after <paramref name="ranFor"/>; false once the worker has crashed quickly more than <see cref="MaxQuickCrashes"/> times in a row.</summary>
    public bool Restart(TimeSpan ranFor, int exitCode)
    {
        LastWasQuickCrash = exitCode != WorkerExitCodes.Retry && ranFor < QuickCrash;
        if (exitCode != WorkerExitCodes.Retry) QuickCrashes = LastWasQuickCrash ? QuickCrashes + 1 : 0;
        return !GaveUp;
    }
}
