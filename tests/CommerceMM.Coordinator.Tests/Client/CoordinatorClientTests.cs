using System.Net;
using System.Net.Sockets;
using CommerceMM.Coordinator.Client;

namespace CommerceMM.Coordinator.Tests.Client;

public sealed class CoordinatorClientTests
{
    [Fact]
    public async Task ConnectAsync_NoGatewayListening_GivesUpAfterRetriesNamingTheGatewayNotTheToken()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port nothing listens on

        var failed = await Assert.ThrowsAsync<CoordinatorException>(() => CoordinatorClient.ConnectAsync(new CoordinatorClientOptions
        {
            Gateways = [$"127.0.0.1:{port}"],
            Job = "job-a",
            Token = "secret-token-0123456789",
            MaxRetries = 2,
            BaseDelay = TimeSpan.FromMilliseconds(10),
            MaxDelay = TimeSpan.FromMilliseconds(20),
        }));

        Assert.Contains($"127.0.0.1:{port}", failed.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", failed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("coordinator:30000,coordinator-1:30001", "coordinator:30000|coordinator-1:30001")]
    [InlineData(" 10.0.0.7 ", "10.0.0.7")]
    public void ParseGateways_HostPortList_Parsed(string text, string expected) =>
        Assert.Equal(expected.Split('|'), CoordinatorClientOptions.ParseGateways(text));

    [Theory]
    [InlineData("http://coordinator:7070", "not the HTTP API")]
    [InlineData("coordinator:99999", "port 1-65535")]
    [InlineData("coordinator:abc", "port 1-65535")]
    [InlineData(" , ", "at least one gateway")]
    public void ParseGateways_Bad_ErrorNamesTheEntryAndTheFix(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => CoordinatorClientOptions.ParseGateways(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
