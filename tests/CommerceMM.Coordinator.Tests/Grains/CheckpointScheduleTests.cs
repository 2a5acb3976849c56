using CommerceMM.Coordinator.Grains.Checkpoints;

namespace CommerceMM.Coordinator.Tests.Grains;

public sealed class CheckpointScheduleTests
{
    [Theory]
    [InlineData(0, 0, 10, 2, null)]   // periodic checkpoints off
    [InlineData(100, 0, 0, 2, 100L)]  // first multiple
    [InlineData(100, 100, 120, 2, 200L)]
    [InlineData(100, 100, 199, 2, 300L)] // 201 is past 200: the next reachable multiple
    [InlineData(100, 0, 98, 2, 100L)]    // exactly reachable
    public void NextPeriodic_Progress_NextReachableMultipleAfterLastOrdered(long every, long lastOrdered, long maxStep, int lead, long? expected)
    {
        Assert.Equal(expected, CheckpointSchedule.NextPeriodic(every, lastOrdered, maxStep, lead));
    }
}
