using CommerceMM.Model.Evaluation;

namespace CommerceMM.Model.Tests.Evaluation;

public class RandomBaselineTests
{
    [Theory]
    [InlineData(1, 10_000, 1e-4)]
    [InlineData(5, 10_000, 5e-4)]
    [InlineData(10, 60, 10 / 60.0)]
    [InlineData(10, 10, 1.0)]
    [InlineData(10, 4, 1.0)]
    public void Recall_IsKOverGallerySize_CappedAtOne(int k, int gallery, double expected) =>
        Assert.Equal(expected, RandomBaseline.Recall(k, gallery), 12);

    [Fact]
    public void Recall_NonPositiveArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomBaseline.Recall(0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomBaseline.Recall(1, 0));
    }

    [Fact]
    public void MajorityAccuracy_IsTheShareOfTheCommonestLabel()
    {
        Assert.Equal(0.5, RandomBaseline.MajorityAccuracy([3, 3, 1, 2]));
        Assert.Equal(0.0, RandomBaseline.MajorityAccuracy([]));
    }
}
