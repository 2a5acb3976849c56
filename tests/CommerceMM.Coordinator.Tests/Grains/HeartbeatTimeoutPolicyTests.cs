using CommerceMM.Coordinator.Grains.Membership;
using CommerceMM.Coordinator.Hosting;

namespace CommerceMM.Coordinator.Tests.Grains;

public sealed class HeartbeatTimeoutPolicyTests
{
    private static readonly LivenessOptions Options = new()
    {
        HeartbeatInterval = TimeSpan.FromSeconds(2),
        TimeoutFloor = TimeSpan.FromSeconds(10),
        StepTimeFactor = 5,
        StartupTimeout = TimeSpan.FromSeconds(120),
        MinCheckpointLeadSteps = 2,
    };

    [Fact]
    public void P95_HundredSamples_IsNinetyFifthSmallest()
    {
        double[] samples = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToArray();

        Assert.Equal(95, HeartbeatTimeoutPolicy.P95(samples));
        Assert.Null(HeartbeatTimeoutPolicy.P95([]));
        Assert.Equal(3, HeartbeatTimeoutPolicy.P95([3]));
    }

    [Theory]
    [InlineData(new double[0], 120)]                 // nothing observed: startup timeout
    [InlineData(new[] { 0.03, 0.03, 0.04 }, 10)]     // fast steps: the floor
    [InlineData(new[] { 3.0, 3.0, 4.0 }, 22)]        // 5 x 4 s + 2 s
    [InlineData(new[] { 1.0, 1.0, 1.0, 60.0 }, 302)] // one slow step in four is above the p95: 5 x 60 + 2
    public void Steady_StepTimes_ScalesWithP95AboveFloor(double[] steps, double expectedSeconds)
    {
        Assert.Equal(expectedSeconds, HeartbeatTimeoutPolicy.Steady(Options, steps).TotalSeconds, precision: 6);
    }

    [Theory]
    [InlineData(new double[0], 2)]
    [InlineData(new[] { 0.5 }, 5)]    // ceil(2 / 0.5) + 1
    [InlineData(new[] { 0.03 }, 68)]  // ceil(2 / 0.03) + 1
    [InlineData(new[] { 30.0 }, 2)]   // slower than the interval: the minimum lead
    public void CheckpointLead_StepTimes_CoversOneHeartbeatInterval(double[] steps, int expected)
    {
        Assert.Equal(expected, HeartbeatTimeoutPolicy.CheckpointLead(Options, steps));
    }
}
