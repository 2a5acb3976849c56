using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CommerceMM.Coordinator.Contracts;
using Polly;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// Typed client of one job's coordinator API, for workers and the CLI. Every call carries the bearer token and runs
/// through <see cref="CoordinatorRetry"/>; refusals surface as <see cref="CoordinatorException"/> (check
/// <see cref="CoordinatorException.MustRejoin"/> and <see cref="CoordinatorException.IsUnauthorized"/>).
/// </summary>
public sealed class CoordinatorClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly CoordinatorClientOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly string _jobPath;

    /// <param name="http">A shared client (its BaseAddress is ignored); null creates one this instance disposes.</param>
    public CoordinatorClient(CoordinatorClientOptions options, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _ownsHttp = http is null;
        // Timeouts belong to the pipeline (per attempt); HttpClient's own would cut across retries.
        _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _pipeline = CoordinatorRetry.Create(options);
        _jobPath = $"v1/jobs/{Uri.EscapeDataString(options.Job)}/";
    }

    public string Job => _options.Job;

    /// <summary>The coordinator this client calls (named in errors about it).</summary>
    public Uri BaseAddress => _options.BaseAddress;

    /// <summary>The clock of this client's waits (the rendezvous store's deadlines too).</summary>
    internal TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>One join attempt: Waiting (poll again) or Assigned.</summary>
    public Task<JoinResponse> TryJoinAsync(string workerId, CancellationToken cancellationToken = default) =>
        SendAsync<JoinResponse>(HttpMethod.Post, "join", new JoinRequest(workerId, _options.Incarnation), cancellationToken);

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
        SendAsync<OrderReply>(HttpMethod.Post, "heartbeat", heartbeat, cancellationToken);

    public Task<OrderReply> ReportFailureAsync(FailureReport report, CancellationToken cancellationToken = default) =>
        SendAsync<OrderReply>(HttpMethod.Post, "failures", report, cancellationToken);

    public Task<OrderReply> CompleteAsync(CompletionReport report, CancellationToken cancellationToken = default) =>
        SendAsync<OrderReply>(HttpMethod.Post, "complete", report, cancellationToken);

    public Task<CheckpointOrderView> OrderCheckpointAsync(CheckpointOrderRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<CheckpointOrderView>(HttpMethod.Post, "checkpoints/orders", request, cancellationToken);

    public Task<CheckpointVoteReply> VoteCheckpointAsync(CheckpointVote vote, CancellationToken cancellationToken = default) =>
        SendAsync<CheckpointVoteReply>(HttpMethod.Post, "checkpoints/votes", vote, cancellationToken);

    public Task<CheckpointStatusView> GetCheckpointsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<CheckpointStatusView>(HttpMethod.Get, "checkpoints", null, cancellationToken);

    public Task<JobStatusView> GetStatusAsync(CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusView>(HttpMethod.Get, "status", null, cancellationToken);

    public Task<JobSpec> GetSpecAsync(CancellationToken cancellationToken = default) =>
        SendAsync<JobSpec>(HttpMethod.Get, "spec", null, cancellationToken);

    public Task<ShardLedgerView> GetShardsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<ShardLedgerView>(HttpMethod.Get, "shards", null, cancellationToken);

    public Task<JobStatusView> StopAsync(CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusView>(HttpMethod.Post, "stop", null, cancellationToken);

    /// <summary>Sets (or replaces) a rendezvous key of <paramref name="generation"/>; a stale generation is refused (<see cref="CoordinatorException.MustRejoin"/>).</summary>
    public async Task SetRendezvousAsync(long generation, string key, byte[] value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        using HttpResponseMessage _ = await ExchangeAsync(HttpMethod.Put, RendezvousPath(generation, key), new RendezvousSetRequest(value), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One long poll for a rendezvous key of <paramref name="generation"/>: the value as soon as it is set, or Found false
    /// after <paramref name="wait"/>, which is capped below both the server's longest wait and this client's attempt timeout.
    /// </summary>
    public Task<RendezvousValue> GetRendezvousAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        double seconds = Math.Clamp(wait.TotalSeconds, 0, Math.Min(RendezvousLimits.MaxWaitSeconds, _options.AttemptTimeout.TotalSeconds / 2));
        return SendAsync<RendezvousValue>(
            HttpMethod.Get, $"{RendezvousPath(generation, key)}&waitSeconds={seconds.ToString("0.###", CultureInfo.InvariantCulture)}", null, cancellationToken);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static string RendezvousPath(long generation, string key) =>
        $"rendezvous/{generation.ToString(CultureInfo.InvariantCulture)}/keys?key={Uri.EscapeDataString(key)}";

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await ExchangeAsync(method, path, body, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(CoordinatorJson.Options, cancellationToken).ConfigureAwait(false)
            ?? throw new CoordinatorException($"coordinator answered {method} {path} with an empty body", response.StatusCode);
    }

    /// <summary>Sends with retries; returns a successful response (the caller disposes it) or throws the refusal.</summary>
    private async Task<HttpResponseMessage> ExchangeAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var uri = new Uri(_options.BaseAddress, _jobPath + path);
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(
                async ct =>
                {
                    // A request message can be sent once: build a fresh one per attempt.
                    using var request = new HttpRequestMessage(method, uri);
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
                    if (body is not null)
                    {
                        request.Content = JsonContent.Create(body, body.GetType(), options: CoordinatorJson.Options);
                    }

                    return await _http.SendAsync(request, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or Polly.Timeout.TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            throw new CoordinatorException($"coordinator {_options.BaseAddress} did not answer {method} {path} after {_options.MaxRetries + 1} attempts: {e.Message}", innerException: e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await RefusalAsync(response, method, path, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<CoordinatorException> RefusalAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        string? type = null, detail = null, title = null;
        long? generation = null;
        try
        {
            using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            JsonElement root = problem.RootElement;
            type = root.TryGetProperty("type", out JsonElement t) ? t.GetString() : null;
            title = root.TryGetProperty("title", out JsonElement ti) ? ti.GetString() : null;
            detail = root.TryGetProperty("detail", out JsonElement d) ? d.GetString() : null;
            if (root.TryGetProperty(ProblemTypes.CurrentGenerationExtension, out JsonElement g) && g.TryGetInt64(out long value))
            {
                generation = value;
            }

            if (detail is null && root.TryGetProperty("errors", out JsonElement errors))
            {
                detail = string.Join("; ", errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(", ", e.Value.EnumerateArray().Select(v => v.GetString()))}"));
            }
        }
        catch (JsonException)
        {
            // Not a ProblemDetails (a proxy's page, say): the status alone must do.
        }

        string what = response.StatusCode == HttpStatusCode.Unauthorized
            ? $"coordinator {_options.BaseAddress} refused the token for job '{_options.Job}'"
            : $"coordinator refused {method} {path} ({(int)response.StatusCode} {title ?? response.ReasonPhrase})";
        return new CoordinatorException(detail is null ? what : $"{what}: {detail}", response.StatusCode, type, generation);
    }
}
