using CommerceMM.Worker;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// Whether `cmm train` starts one of its exited workers again. A worker that keeps crashing without the job getting
/// anywhere is in a crash loop (a bug at startup, a machine it cannot run on, a batch that does not fit in memory), and
/// starting it forever helps nobody. A crash counts toward the loop when the worker ran under a minute, or when the job's
/// step never moved while it ran (a step too big for memory takes minutes to be killed). One that ran a while and saw the
/// job advance is no loop, however often that happens over a long job, so the count starts over: a lifetime count would
/// drop a worker for good at its fourth crash in a week-long job. Exit 75 is no crash at all: the worker was told to go
/// (preempted alone, it left after its checkpoint), so it is always started again.
/// </summary>
internal sealed class CrashLoopGuard
{
    /// <summary>Crashes in a row that count toward a loop before the launcher gives up on the worker.</summary>
    public const int MaxLoopCrashes = 3;

    /// <summary>A run at least this long was not a crash loop: startup (libtorch, join, restore) takes seconds, and a peer's wait at most 30 s.</summary>
    public static readonly TimeSpan QuickCrash = TimeSpan.FromMinutes(1);

    /// <summary>Crashes in a row so far that count toward a loop (0 after a run that saw the job advance).</summary>
    public int LoopCrashes { get; private set; }

    /// <summary>Whether the launcher has given up on the worker: more than <see cref="MaxLoopCrashes"/> crashes in a row counted toward a loop.</summary>
    public bool GaveUp => LoopCrashes > MaxLoopCrashes;

    /// <summary>Whether the last exit recorded counted toward a loop.</summary>
    public bool LastCounted { get; private set; }

    /// <summary>Records an exit with <paramref name="exitCode"/> after <paramref name="ranFor"/>; false once the worker has given up.</summary>
    /// <param name="jobAdvanced">whether the job's step moved while the worker ran</param>
    public bool Restart(TimeSpan ranFor, int exitCode, bool jobAdvanced)
    {
        LastCounted = exitCode != WorkerExitCodes.Retry && (ranFor < QuickCrash || !jobAdvanced);
        if (exitCode != WorkerExitCodes.Retry) LoopCrashes = LastCounted ? LoopCrashes + 1 : 0;
        return !GaveUp;
    }
}
