using System.Net;
using System.Net.Sockets;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Hosting;

public sealed class PortInUseTests
{
    [Theory]
    [InlineData("gateway")]
    [InlineData("silo")]
    [InlineData("http")]
    public async Task ASecondCoordinatorOnAPortTheFirstListensOn_IsRefusedNamingThePortAndTheOption(string which)
    {
        await using TestCoordinator first = await TestCoordinator.StartAsync();
        int port = which switch { "gateway" => first.Host.GatewayPort, "silo" => first.Host.SiloPort, _ => first.Host.BaseAddress.Port };

        // Before, a second silo on the first's gateway or silo port started (Orleans listens with SO_REUSEPORT), and the
        // kernel split the connections between the two.
        var refused = await Assert.ThrowsAsync<PortInUseException>(() => TestCoordinator.StartAsync(new Contracts.JobSpec("job-b", Workers: 2), o =>
        {
            if (which == "gateway") o.GatewayPort = port;
            else if (which == "silo") o.SiloPort = port;
            else o.Urls = [$"http://127.0.0.1:{port}"];
        }));

        string option = which switch { "gateway" => "--gateway-port", "silo" => "--silo-port", _ => "--urls" };
        Assert.Contains($"({option}) is in use on this machine (another coordinator? `ss -ltnp 'sport = :{port}'` names the process): pick a free port",
            refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHttpPortTakenOnlyOnAnotherLocalAddress_StillStarts()
    {
        var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        int port = ((IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        using var elsewhere = new TcpListener(IPAddress.Parse("127.0.0.2"), port);
        elsewhere.Start();

        // Kestrel binds only 127.0.0.1 here: a check on every address would refuse a start that works.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new Contracts.JobSpec("job-c", Workers: 2), o => o.Urls = [$"http://127.0.0.1:{port}"]);

        Assert.Equal(port, coordinator.Host.BaseAddress.Port);
    }
}
