namespace CommerceMM.Cli.Tests;

/// <summary>
/// `cmm bench overlap` trains the real model in two real worker processes, buckets sent during backward and
/// after it, and fails unless every run ends with the same weights: the end-to-end check that a bucket never
/// goes before its layers' gradients are final. Timings are reported, not asserted.
/// </summary>
public class BenchOverlapTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <param name="threads">2: each worker runs its text and image encoders side by side, so two backward threads report finished layers</param>
    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void Run_SendsBucketsDuringBackward_AndEndsWithTheSameWeightsAsAfterBackward(string threads)
    {
        using var cmm = new CmmProcess("bench", "overlap", "--preset", "tiny", "--rows", "4", "--steps", "3", "--rounds", "1", "--threads", threads);
        int exit = cmm.WaitForExit(Patience);

        Assert.True(exit == 0, cmm.Output);
        Assert.Matches(@"after backward\s+[\d.]+\s+[\d.]+\s+0/(\d+)", cmm.Output);
        var overlapped = System.Text.RegularExpressions.Regex.Match(cmm.Output, @"overlapped\s+[\d.]+\s+[\d.]+\s+(\d+)/(\d+)");
        Assert.True(overlapped.Success, cmm.Output);
        Assert.InRange(int.Parse(overlapped.Groups[1].Value), 1, int.Parse(overlapped.Groups[2].Value) - 1); // the layers' buckets, not the rest
        Assert.Matches(@"hidden share of the all-reduce: \d+ %", cmm.Output);
        Assert.Contains("weights after every run: identical", cmm.Output);
    }

    [Fact]
    public void Run_ZeroSteps_IsAnErrorNamingTheOption()
    {
        using var cmm = new CmmProcess("bench", "overlap", "--steps", "0");
        int exit = cmm.WaitForExit(Patience);

        Assert.NotEqual(0, exit);
        Assert.Contains("--steps must be at least 1, got 0", cmm.Output);
    }
}
