using System.Net;
using System.Net.Sockets;
using Azure;
using Azure.Data.Tables;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Grains.Checkpoints;
using CommerceMM.Coordinator.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>How a coordinator's Orleans silo is set up: clustering and membership timing, grain storage in the job's blob store, and the wire format.</summary>
internal static class CoordinatorSilo
{
    /// <summary>
    /// How long one grain call may take inside the silo. A vote that completes a checkpoint verifies every file of it
    /// before answering, which can take minutes on a large model; Orleans' default of 30 s would cut it off.
    /// </summary>
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The silo and gateway ports to listen on: the configured ones, or free ones for those left at 0.</summary>
    public static (int Silo, int Gateway) Ports(CoordinatorOptions options)
    {
        int siloPort = options.SiloPort == 0 ? FreePort(options.GatewayPort) : options.SiloPort;
        return (siloPort, options.GatewayPort == 0 ? FreePort(siloPort) : options.GatewayPort);
    }

    public static void Configure(ISiloBuilder silo, CoordinatorOptions options, (int Silo, int Gateway) ports)
    {
        string clusterId = ControlPlaneCluster.ClusterIdOf(options.Job.Name);
        ClusteringOptions clustering = options.Clustering;
        if (clustering.IsMultiSilo)
        {
            if (clustering.Redis is { } redis)
            {
                silo.UseRedisClustering(table => table.ConfigurationOptions = RedisConfiguration(redis));
            }
            else
            {
                silo.UseAzureStorageClustering(table => table.TableServiceClient = AzureTables(clustering.AzureTableConnectionString!));
            }

            silo.Configure<ClusterOptions>(cluster => (cluster.ServiceId, cluster.ClusterId) = (ControlPlaneCluster.ServiceId, clusterId));
            silo.ConfigureEndpoints(clustering.AdvertisedAddress, ports.Silo, ports.Gateway, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.UseLocalhostClustering(ports.Silo, ports.Gateway, serviceId: ControlPlaneCluster.ServiceId, clusterId: clusterId);
            // Workers on other machines (pods) reach the gateway: listen on every interface, not only the advertised loopback.
            silo.Configure<EndpointOptions>(endpoints => endpoints.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, ports.Gateway));
        }

        silo.Configure<ClusterMembershipOptions>(membership =>
        {
            membership.ProbeTimeout = clustering.ProbeTimeout;
            membership.TableRefreshTimeout = clustering.TableRefreshTimeout;
            membership.IAmAliveTablePublishTimeout = clustering.TableRefreshTimeout;
        });
        silo.Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = ResponseTimeout);
        silo.Services.AddSingleton<SiloRecoveries>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStateKeys.Provider, (_, _) => new BlobGrainStorage(options.BlobStore));
        silo.Services.AddSerializer(serializer => serializer.AddCoordinatorContracts());
    }

    /// <summary>
    /// Fails fast when the clustering provider cannot be reached: otherwise the silo would retry joining for minutes.
    /// The message names the provider and the address.
    /// </summary>
    public static async Task CheckReachableAsync(ClusteringOptions clustering, CancellationToken cancellationToken)
    {
        if (clustering.AzureTableConnectionString is { } connection)
        {
            TableServiceClient tables = AzureTables(connection, new TableClientOptions { Retry = { MaxRetries = 1, NetworkTimeout = TimeSpan.FromSeconds(5) } });
            try
            {
                await tables.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException or HttpRequestException)
            {
                // The endpoint, never the connection string: it holds the account key.
                throw new ClusteringUnreachableException($"the clustering provider azure-table at '{tables.Uri}' is unreachable: {e.Message}", e);
            }
        }

        if (clustering.Redis is not { } redis)
        {
            return;
        }

        try
        {
            ConfigurationOptions configuration = RedisConfiguration(redis);
            configuration.AbortOnConnectFail = true;
            configuration.ConnectRetry = 1;
            await using ConnectionMultiplexer multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
            await multiplexer.GetDatabase().PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or ArgumentException or TimeoutException)
        {
            throw new ClusteringUnreachableException($"the clustering provider redis at '{redis}' is unreachable: {e.Message}", e);
        }
    }

    private static TableServiceClient AzureTables(string connection, TableClientOptions? options = null) =>
        options is null ? new TableServiceClient(connection) : new TableServiceClient(connection, options);

    private static ConfigurationOptions RedisConfiguration(string redis)
    {
        ConfigurationOptions configuration = ConfigurationOptions.Parse(redis);
        configuration.ConnectTimeout = 5000;
        return configuration;
    }

    private static int FreePort(int except = 0)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port != except)
            {
                return port;
            }
        }
    }
}
