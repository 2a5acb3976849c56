using System.Net;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Serialization;
using Polly;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// A worker's line to one job's grains: an Orleans client of the silos' gateways. Every call carries the job token, has a
/// deadline and runs through <see cref="GrainRetry"/>, which rides out a coordinator restart or a silo failover; refusals
/// surface as <see cref="CoordinatorException"/> (check <see cref="CoordinatorException.MustRejoin"/> and
/// <see cref="CoordinatorException.IsUnauthorized"/>).
/// </summary>
public sealed class CoordinatorClient : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly CoordinatorClientOptions _options;
    private readonly ResiliencePipeline _call;
    private readonly ResiliencePipeline _commit;
    private readonly IWorkerGatewayGrain _gateway;

    private CoordinatorClient(IHost host, CoordinatorClientOptions options)
    {
        _host = host;
        _options = options;
        _call = GrainRetry.Create(options, options.CallTimeout);
        _commit = GrainRetry.Create(options, options.AttemptTimeout);
        _gateway = host.Services.GetRequiredService<IClusterClient>().GetGrain<IWorkerGatewayGrain>(options.Job);
    }

    public string Job => _options.Job;

    /// <summary>The gateways this client calls (named in errors about them).</summary>
    public string Gateways => string.Join(",", _options.Gateways);

    /// <summary>The clock of this client's waits (the rendezvous store's deadlines too).</summary>
    internal TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>
    /// Connects to the gateways, retrying as a call would while none answers (a coordinator that is still starting, or
    /// restarting); a <see cref="CoordinatorException"/> when none answered within the retries.
    /// </summary>
    public static async Task<CoordinatorClient> ConnectAsync(CoordinatorClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        IPEndPoint[] gateways = await options.ResolveAsync(cancellationToken).ConfigureAwait(false);
        int attempts = 0;
        IHost host = new HostBuilder()
            .ConfigureLogging(logging => logging.AddFilter("Orleans", LogLevel.Warning))
            // The process's signals belong to the process (a worker exits 75 on one while connecting); callers cancel through the token.
            .ConfigureServices(services => services.AddSingleton<IHostLifetime, CallerOwnedLifetime>())
            .UseOrleansClient(client =>
            {
                client.UseStaticClustering(gateways);
                client.Configure<ClusterOptions>(cluster => (cluster.ServiceId, cluster.ClusterId) = (ControlPlaneCluster.ServiceId, ControlPlaneCluster.ClusterIdOf(options.Job)));
                client.Configure<ClientMessagingOptions>(messaging => messaging.ResponseTimeout = options.AttemptTimeout > options.CallTimeout ? options.AttemptTimeout : options.CallTimeout);
                client.Services.AddSerializer(serializer => serializer.AddCoordinatorContracts());
                client.UseConnectionRetryFilter(async (_, ct) =>
                {
                    if (++attempts > options.MaxRetries)
                    {
                        return false;
                    }

                    await Task.Delay(options.BaseDelay * Math.Min(1 << Math.Min(attempts, 16), options.MaxDelay / options.BaseDelay), options.TimeProvider, ct).ConfigureAwait(false);
                    return true;
                });
            })
            .Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            host.Dispose();
            // Orleans reports a connection attempt that the token cut short as a failed connection, not as a cancellation:
            // a worker stopped while connecting must see why it stopped, not "no gateway answered".
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("connecting to the coordinator was cancelled", e, cancellationToken);
            }

            throw new CoordinatorException($"no coordinator gateway answered at {string.Join(",", options.Gateways)} for job '{options.Job}' after {attempts} attempts: {e.Message}", innerException: e);
        }

        return new CoordinatorClient(host, options);
    }

    /// <summary>One join attempt: Waiting (poll again) or Assigned.</summary>
    public Task<JoinResponse> TryJoinAsync(string workerId, CancellationToken cancellationToken = default) =>
        CallAsync("join", (g, t, ct) => g.JoinAsync(t, new JoinRequest(workerId, _options.Incarnation), ct), cancellationToken);

    /// <summary>Joins and polls until the rendezvous assigns a rank (or <paramref name="cancellationToken"/> fires).</summary>
    public async Task<JoinResponse> JoinAsync(string workerId, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            JoinResponse response = await TryJoinAsync(workerId, cancellationToken).ConfigureAwait(false);
            if (response.Status == JoinStatus.Assigned)
            {
                return response;
            }

            await Task.Delay(TimeSpan.FromSeconds(Math.Max(0.05, response.RetryAfterSeconds)), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<OrderReply> HeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken = default) =>
        CallAsync("heartbeat", (g, t, ct) => g.HeartbeatAsync(t, heartbeat, ct), cancellationToken);

    public Task<OrderReply> ReportFailureAsync(FailureReport report, CancellationToken cancellationToken = default) =>
        CallAsync("failure report", (g, t, ct) => g.ReportFailureAsync(t, report, ct), cancellationToken);

    public Task<OrderReply> CompleteAsync(CompletionReport report, CancellationToken cancellationToken = default) =>
        CallAsync("completion", (g, t, ct) => g.CompleteAsync(t, report, ct), cancellationToken);

    public Task<CheckpointOrderView> OrderCheckpointAsync(CheckpointOrderRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("checkpoint order", (g, t, ct) => g.OrderCheckpointAsync(t, request, ct), cancellationToken, _commit);

    public Task<CheckpointVoteReply> VoteCheckpointAsync(CheckpointVote vote, CancellationToken cancellationToken = default) =>
        CallAsync("checkpoint vote", (g, t, ct) => g.VoteCheckpointAsync(t, vote, ct), cancellationToken, _commit);

    /// <summary>Rank 0 restored an older checkpoint than the last committed one (see <see cref="RestoreReport"/>); the commit pipeline's deadline covers the coordinator's verification.</summary>
    public Task<CheckpointStatusView> ReportRestoreAsync(RestoreReport report, CancellationToken cancellationToken = default) =>
        CallAsync("restore report", (g, t, ct) => g.ReportRestoreAsync(t, report, ct), cancellationToken, _commit);

    public Task<JobSpec> GetSpecAsync(CancellationToken cancellationToken = default) =>
        CallAsync("spec", (g, t, ct) => g.GetSpecAsync(t, ct), cancellationToken);

    /// <summary>Sets (or replaces) a rendezvous key of <paramref name="generation"/>; a stale generation is refused (<see cref="CoordinatorException.MustRejoin"/>).</summary>
    public Task SetRendezvousAsync(long generation, string key, byte[] value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return CallAsync($"rendezvous key '{key}'", (g, t, ct) => g.SetRendezvousAsync(t, generation, key, value, ct), cancellationToken);
    }

    /// <summary>
    /// One long poll for a rendezvous key of <paramref name="generation"/>: the value as soon as it is set, or Found false
    /// after <paramref name="wait"/> (capped at the grain's longest wait).
    /// </summary>
    public Task<RendezvousValue> GetRendezvousAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var capped = TimeSpan.FromSeconds(Math.Clamp(wait.TotalSeconds, 0, RendezvousLimits.MaxWaitSeconds));
        // The wait is the grain's; the attempt's deadline covers it plus one ordinary call.
        return CallAsync($"rendezvous key '{key}'", (g, t, ct) => g.GetRendezvousAsync(t, generation, key, capped, ct), cancellationToken,
            capped > TimeSpan.Zero ? GrainRetry.Create(_options, capped + _options.CallTimeout) : _call);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            _host.Dispose();
        }
    }

    /// <summary>One grain call with retries; the value, or the refusal as a <see cref="CoordinatorException"/>.</summary>
    private async Task<T> CallAsync<T>(
        string operation, Func<IWorkerGatewayGrain, string, CancellationToken, Task<GrainResult<T>>> call, CancellationToken cancellationToken, ResiliencePipeline? pipeline = null)
    {
        GrainResult<T> result;
        try
        {
            result = await (pipeline ?? _call).ExecuteAsync(
                async ct => await call(_gateway, _options.Token, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // As in ConnectAsync: a call cut short by its caller failed because it was cancelled.
            throw new OperationCanceledException($"the {operation} was cancelled", e, cancellationToken);
        }
        catch (Exception e) when (GrainRetry.IsTransient(e))
        {
            throw new CoordinatorException($"coordinator at {Gateways} did not answer the {operation} after {_options.MaxRetries + 1} attempts: {e.Message}", innerException: e);
        }

        return result.IsOk ? result.Value!
            : result.Status == GrainStatus.Unauthorized
                ? throw new CoordinatorException($"coordinator at {Gateways} refused the token for job '{Job}' (check CMM_JOB_TOKEN or the token file)", HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized)
                : throw CoordinatorException.Refused(operation, result);
    }
}
