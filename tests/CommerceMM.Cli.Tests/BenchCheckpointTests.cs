namespace CommerceMM.Cli.Tests;

/// <summary>`cmm bench checkpoint` runs the real save path (snapshot, saver, file store) and reports its figures; timings themselves are not asserted.</summary>
public class BenchCheckpointTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public void Run_ReportsTheStallAndTheUpload_AndLeavesNothingBehind()
    {
        var before = Directory.GetDirectories(Path.GetTempPath(), "cmm-bench-checkpoint-*").ToHashSet();
        using var cmm = new CmmProcess("bench", "checkpoint", "--batch", "4", "--every", "1", "--saves", "2", "--rounds", "1", "--threads", "1");
        int exit = cmm.WaitForExit(Patience);

        Assert.True(exit == 0, cmm.Output);
        Assert.Matches(@"state [\d.]+ [KM]iB to the file store", cmm.Output);
        Assert.Matches(@"save stall: copy to host memory \+ queue\s+[\d.]+\s+[\d.]+ %", cmm.Output);
        Assert.Matches(@"a synchronous save's stall \(copy, then upload\)\s+[\d.]+\s+[\d.,]+ %\s+\(\d+x the background save's\)", cmm.Output);
        Assert.Matches(@"upload \(background: SHA-256, write, fsync\)\s+[\d.]+", cmm.Output);
        Assert.Matches(@"restore read: find the newest, verify, keep files\s+[\d.]+\s+[\d.]+x", cmm.Output);
        Assert.Matches(@"once / twice = [\d.]+\)", cmm.Output);
        Assert.All(Directory.GetDirectories(Path.GetTempPath(), "cmm-bench-checkpoint-*"), d => Assert.Contains(d, before));
    }

    [Fact]
    public void Run_NoSaves_IsAnErrorNamingTheOption()
    {
        using var cmm = new CmmProcess("bench", "checkpoint", "--saves", "0");
        int exit = cmm.WaitForExit(Patience);

        Assert.NotEqual(0, exit);
        Assert.Contains("--saves must be at least 1, got 0", cmm.Output);
    }
}
