using CommerceMM.Cli.Launch;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Worker;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Tests;

/// <summary>What `cmm train` decides and shows about its workers: when an exited one is started again, and the step it reports.</summary>
public sealed class LocalClusterPolicyTests
{
    private const int Killed = 137;
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(5), Long = TimeSpan.FromMinutes(20);

    [Fact]
    public void CrashLoopGuard_GivesUpAfterThreeQuickCrashesInARow()
    {
        var guard = new CrashLoopGuard();

        Assert.True(guard.Restart(Quick, Killed, jobAdvanced: true));
        Assert.True(guard.Restart(Quick, Killed, jobAdvanced: true));
        Assert.True(guard.Restart(Quick, WorkerExitCodes.Fatal, jobAdvanced: true));
        Assert.Equal((3, true), (guard.LoopCrashes, guard.LastCounted));
        Assert.False(guard.GaveUp);
        Assert.False(guard.Restart(Quick, Killed, jobAdvanced: true));
        Assert.True(guard.GaveUp);
    }

    [Fact]
    public void CrashLoopGuard_AWorkerThatRanAWhile_IsRestartedHoweverOftenItCrashes()
    {
        // A worker killed every 20 minutes of a long job: each crash follows a long run, so none is a crash loop.
        var guard = new CrashLoopGuard();

        for (int exit = 0; exit < 10; exit++) Assert.True(guard.Restart(Long, Killed, jobAdvanced: true));
        Assert.Equal((0, false), (guard.LoopCrashes, guard.LastCounted));
        // Quick crashes count again from zero after a long run.
        Assert.True(guard.Restart(Quick, Killed, jobAdvanced: true));
        Assert.True(guard.Restart(Quick, Killed, jobAdvanced: true));
        Assert.True(guard.Restart(Long, Killed, jobAdvanced: true));
        Assert.True(guard.Restart(Quick, Killed, jobAdvanced: true));
        Assert.Equal(1, guard.LoopCrashes);
    }

    [Fact]
    public void CrashLoopGuard_LongRunsThatNeverMoveTheJob_AreACrashLoop()
    {
        // A batch too big for memory: each start restores, builds its first step for minutes, and is killed before it ends.
        var guard = new CrashLoopGuard();
        for (int start = 0; start < 3; start++) Assert.True(guard.Restart(Long, Killed, jobAdvanced: false));
        Assert.Equal((3, true), (guard.LoopCrashes, guard.LastCounted));
        Assert.False(guard.Restart(Long, Killed, jobAdvanced: false));
        Assert.True(guard.GaveUp);

        // One run that saw the job move on starts the count over.
        var other = new CrashLoopGuard();
        Assert.True(other.Restart(Long, Killed, jobAdvanced: false));
        Assert.True(other.Restart(Long, Killed, jobAdvanced: true));
        Assert.Equal((0, false), (other.LoopCrashes, other.LastCounted));
    }

    [Fact]
    public void CrashLoopGuard_ExitSeventyFive_IsNoCrash_HoweverSoonAndOftenItComes()
    {
        // A worker preempted alone leaves after its checkpoint with 75, and is started again every time (a spot fleet's
        // reclaims can come minutes apart); nor does it reset a crash loop in the making.
        var guard = new CrashLoopGuard();
        Assert.True(guard.Restart(Quick, Killed, jobAdvanced: true));

        for (int exit = 0; exit < 10; exit++) Assert.True(guard.Restart(Quick, WorkerExitCodes.Retry, jobAdvanced: true));
        Assert.Equal((1, false), (guard.LoopCrashes, guard.LastCounted));
    }

    [Fact]
    public void LiveView_BetweenGenerations_ShowsTheCommittedStep_AndNoRateFromIt()
    {
        var time = new ManualTimeProvider();
        var view = new LiveView(SpecLoader.Load("", new Dictionary<string, string>()), time);
        var checkpoint = new CommittedCheckpointView(440, 14, 2, DateTimeOffset.UnixEpoch);
        MemberView Member(long? step) => new("local-0", 0, MemberState.Running, step, 0.1, 0.5, 0.0, null);
        JobStatusView Status(long generation, MemberView[] members) =>
            new("job", JobState.Running, null, generation, 0, members.Length, false, 500, 10, members, checkpoint, null);

        Assert.StartsWith("[cmm train] Running step 447/500;", view.Next(Status(14, [Member(447)]))[0], StringComparison.Ordinal);
        // Generation 15 has begun and its ranks are restoring step 440: not step 0.
        Assert.StartsWith("[cmm train] Running step 440/500; generation 15, 0/0", view.Next(Status(15, []))[0], StringComparison.Ordinal);
        time.AdvanceSeconds(10);
        // The rate counts the 20 steps since 440 (× 2 streams × 32 rows, in 10 s), not 460 steps since "step 0".
        Assert.StartsWith("[cmm train] Running step 460/500, 128 samples/s;", view.Next(Status(15, [Member(460)]))[0], StringComparison.Ordinal);
    }

    [Fact]
    public void LiveView_AfterCmmStop_SaysWhereTheJobStops()
    {
        var view = new LiveView(SpecLoader.Load("", new Dictionary<string, string>()));
        var running = new JobStatusView("job", JobState.Running, null, 3, 0, 2, false, 500, 10, [], null, null);
        var order = new CheckpointOrderView(3, 52, 2, "stop requested", [], [0], EndsGeneration: true);

        Assert.EndsWith("; stopping (cmm stop) at step 52", view.Next(running with { StopRequested = true, PendingCheckpoint = order })[0], StringComparison.Ordinal);
        Assert.EndsWith("; stopping (cmm stop) at the next checkpoint", view.Next(running with { StopRequested = true })[0], StringComparison.Ordinal);
        Assert.DoesNotContain("stopping", view.Next(running)[0], StringComparison.Ordinal);
    }
}
