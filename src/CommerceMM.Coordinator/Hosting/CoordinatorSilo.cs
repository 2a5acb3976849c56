using System.Net;
using System.Net.Sockets;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains.Checkpoints;
using CommerceMM.Coordinator.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>How a coordinator's Orleans silo is set up: clustering, grain storage in the job's blob store, and the wire format.</summary>
internal static class CoordinatorSilo
{
    /// <summary>
    /// How long one grain call may take inside the silo. A vote that completes a checkpoint verifies every file of it
    /// before answering, which can take minutes on a large model; Orleans' default of 30 s would cut it off.
    /// </summary>
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromMinutes(5);

    public static void Configure(ISiloBuilder silo, CoordinatorOptions options)
    {
        int siloPort = options.SiloPort == 0 ? FreePort() : options.SiloPort;
        int gatewayPort = options.GatewayPort == 0 ? FreePort(siloPort) : options.GatewayPort;
        silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "cmm", clusterId: $"cmm-{options.Job.Name}");
        silo.Configure<SiloMessagingOptions>(messaging => messaging.ResponseTimeout = ResponseTimeout);
        silo.Services.AddSingleton<SiloRecoveries>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStateKeys.Provider, (_, _) => new BlobGrainStorage(options.BlobStore));
        silo.Services.AddSerializer(serializer => serializer.AddJsonSerializer(IsContract, CoordinatorJson.Options));
    }

    /// <summary>Our contracts travel as JSON in the wire dialect (records, JsonElement specs), not Orleans' own format.</summary>
    internal static bool IsContract(Type type) => type.Namespace?.StartsWith("CommerceMM.", StringComparison.Ordinal) == true;

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
