using CommerceMM.Coordinator.Hosting;

namespace CommerceMM.Coordinator.Tests.Hosting;

public sealed class ClusteringOptionsTests
{
    [Theory]
    [InlineData("localhost")]
    [InlineData("redis=redis:6379")]
    public void ToString_IsTheFormItParsesFrom(string text) => Assert.Equal(text, ClusteringOptions.Parse(text).ToString());

    [Fact]
    public void ToString_OfAzureTable_NamesIt_WithoutTheConnectionString()
    {
        var options = new ClusteringOptions { AzureTableConnectionString = "AccountKey=secret" };
        Assert.Equal("azure-table", options.ToString()); // `cmm coordinator --help` showed the type's name as the default
    }
}
