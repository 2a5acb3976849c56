using CommerceMM.Data.Loading;

namespace CommerceMM.Data.Tests.Loading;

public class LoaderPositionTests
{
    private static LoaderPosition At(long epoch, long cursor, long offset, int world) => new()
    {
        Stream = "pairs", Seed = 5, CanonicalPartitions = 8, Samples = 100, Epoch = epoch, Cursor = cursor, Offset = offset, WorldSize = world,
    };

    [Fact]
    public void Rebase_NewWorldSize_FoldsOffsetIntoCursor()
    {
        var rebased = At(2, 10, 6, 3).Rebase(4);
        Assert.Equal((2L, 28L, 0L, 4), (rebased.Epoch, rebased.Cursor, rebased.Offset, rebased.WorldSize));
        Assert.Equal(28, rebased.Consumed);
    }

    [Fact]
    public void Rebase_EpochFullyConsumed_MovesToNextEpoch()
    {
        var rebased = At(0, 40, 30, 2).Rebase(1);
        Assert.Equal((1L, 0L, 0L), (rebased.Epoch, rebased.Cursor, rebased.Offset));
    }

    [Theory]
    [InlineData(0, 2L, 28L)] // nothing skipped: the same point, as Rebase folds it
    [InlineData(16, 2L, 44L)] // within the epoch, the offset folded in
    [InlineData(72, 3L, 0L)] // to the end of the epoch exactly: the next one's start
    [InlineData(250, 4L, 78L)] // over two epochs' worth
    public void Skip_MovesOnThroughTheOrder_IntoLaterEpochs(long samples, long epoch, long cursor)
    {
        var skipped = At(2, 10, 6, 3).Skip(samples);

        Assert.Equal((epoch, cursor, 0L, 3), (skipped.Epoch, skipped.Cursor, skipped.Offset, skipped.WorldSize));
        Assert.Equal(skipped, LoaderPosition.FromJson(skipped.ToJson()));
    }

    [Fact]
    public void ToJson_RoundTrips()
    {
        var p = At(3, 12, 4, 2);
        Assert.Equal(p, LoaderPosition.FromJson(p.ToJson()));
        Assert.Contains("\"epoch\":3", p.ToJson());
    }

    [Fact]
    public void FromJson_NewerVersion_RefusedByName()
    {
        string json = At(0, 0, 0, 1).ToJson().Replace("\"version\":1", "\"version\":2");
        var error = Assert.Throws<FormatException>(() => LoaderPosition.FromJson(json));
        Assert.Contains("version 2", error.Message);
    }

    [Fact]
    public void FromJson_ConsumedBeyondEpoch_Refused()
    {
        Assert.Throws<FormatException>(() => LoaderPosition.FromJson(At(0, 90, 20, 1).ToJson()));
        Assert.Throws<FormatException>(() => LoaderPosition.FromJson("not json"));
    }
}
