using CommerceMM.Model.Config;
using CommerceMM.Model.Evaluation;

namespace CommerceMM.Model.Tests.Evaluation;

public class AllocationNamesTests
{
    private static readonly CommerceMMConfig Config = CommerceMMConfig.Tiny();

    [Fact]
    public void Parse_All_IsNull() => Assert.Null(AllocationNames.Parse("all", Config));

    [Fact]
    public void Parse_Name_IsThatAllocation() =>
        Assert.Equal(new Allocation(1, 2, 1), Assert.Single(AllocationNames.Parse("t1-v2-f1", Config)!));

    [Theory]
    [InlineData("t2-v2")]
    [InlineData("full")]
    [InlineData("t3-v2-f1")]
    [InlineData("t0-v2-f1")]
    public void Parse_MalformedOrTooDeep_ThrowsNamingTheFlag(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => AllocationNames.Parse(value, Config));
        Assert.Contains("--allocation", e.Message);
    }

    [Fact]
    public void Ordered_NoAllocations_IsFullDepthOnly() =>
        Assert.Equal([Config.FullDepth], AllocationNames.Ordered(Config));
}
