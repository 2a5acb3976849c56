using CommerceMM.Observability.Stragglers;

namespace CommerceMM.Observability.Tests.Stragglers;

public sealed class StragglerDetectorTests
{
    private static readonly StragglerOptions Options = new() { Window = 10, MinSamples = 3, EnterRatio = 1.25, ExitRatio = 1.10, Consecutive = 3 };

    /// <summary>One round: every rank reports one step, rank order fixed.</summary>
    private static Dictionary<int, RankStepStatus> Round(StragglerDetector detector, params double[] seconds) =>
        seconds.Select((s, rank) => detector.Observe(rank, s)).ToDictionary(s => s.Rank);

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(16)]
    public void Observe_EqualRanks_NeverFlagsAndRatioIsOne(int worldSize)
    {
        var detector = new StragglerDetector(Options);

        for (var i = 0; i < 20; i++) Round(detector, Enumerable.Repeat(0.1, worldSize).ToArray());

        Assert.All(detector.Snapshot(), s =>
        {
            Assert.False(s.IsStraggler);
            Assert.Equal(1.0, s.Ratio);
        });
    }

    [Fact]
    public void Observe_OneRankPersistentlyHalfSlower_FlagsOnlyItAfterConsecutiveObservations()
    {
        var detector = new StragglerDetector(Options);
        var flaggedAtRound = -1;

        for (var round = 0; round < 10 && flaggedAtRound < 0; round++)
        {
            var statuses = Round(detector, 0.1, 0.1, 0.15, 0.1);
            if (statuses[2].IsStraggler) flaggedAtRound = round;
            Assert.False(statuses[0].IsStraggler || statuses[1].IsStraggler || statuses[3].IsStraggler);
        }

        // Comparable from round 2 (MinSamples=3), above 1.25 for rounds 2, 3, 4: flagged at round 4.
        Assert.Equal(4, flaggedAtRound);
        Assert.Equal(1.5, detector.Snapshot()[2].Ratio!.Value, 9);
    }

    [Fact]
    public void Observe_SingleSlowStep_DoesNotMoveTheMedianOrFlag()
    {
        var detector = new StragglerDetector(Options);
        for (var i = 0; i < 5; i++) Round(detector, 0.1, 0.1);

        var spike = detector.Observe(1, 5.0);
        for (var i = 0; i < 5; i++) Round(detector, 0.1, 0.1);

        Assert.Equal(1.0, spike.Ratio);
        Assert.False(detector.Snapshot()[1].IsStraggler);
    }

    [Fact]
    public void Observe_FlaggedRankHoveringBetweenThresholds_StaysFlaggedThenClearsBelowExit()
    {
        var detector = new StragglerDetector(Options);
        for (var i = 0; i < 6; i++) Round(detector, 0.1, 0.1, 0.2);
        Assert.True(detector.Snapshot()[2].IsStraggler);

        // 1.2 is under the enter ratio but over the exit ratio: hysteresis keeps the flag.
        for (var i = 0; i < 12; i++) Round(detector, 0.1, 0.1, 0.12);
        Assert.True(detector.Snapshot()[2].IsStraggler);

        var cleared = -1;
        for (var round = 0; round < 15 && cleared < 0; round++)
        {
            if (!Round(detector, 0.1, 0.1, 0.1)[2].IsStraggler) cleared = round;
        }
        // The window (10) must first fill with 0.1 s past its middle before the median falls to 1.0.
        Assert.InRange(cleared, 2, 10);
    }

    [Fact]
    public void Observe_SingleRank_HasNoPeersSoNoRatio()
    {
        var detector = new StragglerDetector(Options);

        RankStepStatus last = default;
        for (var i = 0; i < 10; i++) last = detector.Observe(0, 0.1 * (i + 1));

        Assert.Null(last.Ratio);
        Assert.False(last.IsStraggler);
    }

    [Fact]
    public void Observe_OneOtherSlowPeer_DoesNotMakeATypicalRankLookFast()
    {
        var detector = new StragglerDetector(Options);

        for (var i = 0; i < 5; i++) Round(detector, 0.1, 0.1, 0.1, 1.0);

        // Peers of rank 0 are {0.1, 0.1, 1.0}: their median is 0.1, not the mean 0.4.
        Assert.Equal(1.0, detector.Snapshot()[0].Ratio);
    }

    [Fact]
    public void Reset_AfterFlag_ForgetsEveryRank()
    {
        var detector = new StragglerDetector(Options);
        for (var i = 0; i < 6; i++) Round(detector, 0.1, 0.3);

        detector.Reset();

        Assert.Empty(detector.Snapshot());
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Observe_InvalidTime_Throws(double seconds)
    {
        var detector = new StragglerDetector(Options);

        Assert.Throws<ArgumentOutOfRangeException>(() => detector.Observe(0, seconds));
    }

    [Fact]
    public void Constructor_ExitRatioAboveEnterRatio_ThrowsNamingTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => new StragglerDetector(new StragglerOptions { EnterRatio = 1.2, ExitRatio = 1.3 }));

        Assert.Contains(nameof(StragglerOptions.ExitRatio), error.Message, StringComparison.Ordinal);
    }
}
