using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Storage.Tests.Azure;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Coordinator.Tests.Hosting;

/// <summary>Two silos of one job on an Azure Table membership table (a real Azurite table server on 127.0.0.1).</summary>
public sealed class AzureTableClusteringTests : IAsyncLifetime
{
    private readonly AzuriteServer _tables = new("table");

    public Task InitializeAsync() => _tables.StartAsync();

    public Task DisposeAsync() => _tables.DisposeAsync().AsTask();

    [Fact]
    public async Task TwoSilos_OneControlPlane_TheJobMovesToTheSurvivorWhenItsSiloStops()
    {
        await using TestCoordinator first = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1), Silo(_tables.ConnectionString));
        await using TestCoordinator second = await TestCoordinator.StartBesideAsync(first, Silo(_tables.ConnectionString));
        await using CoordinatorClient client = await CoordinatorClient.ConnectAsync(new CoordinatorClientOptions
        {
            Gateways = [first.Host.Gateway, second.Host.Gateway], Job = "job-a", Token = TestCoordinator.Token,
        });
        JoinResponse joined = await client.JoinAsync("w0");

        // One cluster: both silos answer with the same activation of the job's grains.
        string? host = (await first.Client().GetStatusAsync()).ControlSilo;
        Assert.Equal(host, (await second.Client().GetStatusAsync()).ControlSilo);
        TestCoordinator hosting = host!.Contains($":{first.Host.SiloPort}:", StringComparison.Ordinal) ? first : second;
        TestCoordinator survivor = hosting == first ? second : first;

        await hosting.Host.StopAsync();
        OrderReply reply = await client.HeartbeatAsync(TestCoordinator.Beat(joined, "w0", 3));

        Assert.Equal((WorkerOrder.None, joined.Generation), (reply.Order, reply.Generation)); // state carried over: same generation, same rank
        JobStatusView status = await survivor.Client().GetStatusAsync();
        Assert.Contains($":{survivor.Host.SiloPort}:", status.ControlSilo, StringComparison.Ordinal);
        Assert.Equal(3, status.Members.Single().LastStep);
    }

    [Fact]
    public async Task Start_TableServiceUnreachable_FailsFastNamingTheEndpointNotTheKey()
    {
        string connection = _tables.ConnectionString.Replace($":{_tables.Port}/", $":{FreePorts.Next()}/", StringComparison.Ordinal);

        var failed = await Assert.ThrowsAsync<ClusteringUnreachableException>(() => TestCoordinator.StartAsync(configure: Silo(connection)));

        Assert.Contains("azure-table at 'http://127.0.0.1:", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", failed.Message, StringComparison.Ordinal);
    }

    private static Action<CoordinatorOptions> Silo(string connection) => options =>
    {
        options.Clustering = new ClusteringOptions { AzureTableConnectionString = connection };
        (options.SiloPort, options.GatewayPort) = (FreePorts.Next(), FreePorts.Next());
    };
}
