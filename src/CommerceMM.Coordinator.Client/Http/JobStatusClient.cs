using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CommerceMM.Coordinator.Contracts;
using Polly;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// Typed client of one job's HTTP status API, for the CLI and operators' tools (workers call grains through
/// <see cref="CoordinatorClient"/>). Every call carries the bearer token and runs through <see cref="HttpRetry"/>;
/// refusals surface as <see cref="CoordinatorException"/>.
/// </summary>
public sealed class JobStatusClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly JobStatusClientOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly string _jobPath;

    /// <param name="http">A shared client (its BaseAddress is ignored); null creates one this instance disposes.</param>
    public JobStatusClient(JobStatusClientOptions options, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _ownsHttp = http is null;
        // Timeouts belong to the pipeline (per attempt); HttpClient's own would cut across retries.
        _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _pipeline = HttpRetry.Create(options);
        _jobPath = $"v1/jobs/{Uri.EscapeDataString(options.Job)}/";
    }

    public string Job => _options.Job;

    /// <summary>The coordinator this client calls (named in errors about it).</summary>
    public Uri BaseAddress => _options.BaseAddress;

    public Task<CheckpointStatusView> GetCheckpointsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<CheckpointStatusView>(HttpMethod.Get, "checkpoints", null, cancellationToken);

    public Task<JobStatusView> GetStatusAsync(CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusView>(HttpMethod.Get, "status", null, cancellationToken);

    public Task<JobSpec> GetSpecAsync(CancellationToken cancellationToken = default) =>
        SendAsync<JobSpec>(HttpMethod.Get, "spec", null, cancellationToken);

    public Task<ShardLedgerView> GetShardsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<ShardLedgerView>(HttpMethod.Get, "shards", null, cancellationToken);

    /// <summary>
    /// Asks the job to stop at a checkpoint every rank saves (it stops once that commits), or with <paramref name="now"/> at
    /// once, losing the steps since the last commit; a job with no ranks training stops at once either way.
    /// </summary>
    public Task<JobStatusView> StopAsync(bool now = false, CancellationToken cancellationToken = default) =>
        SendAsync<JobStatusView>(HttpMethod.Post, now ? "stop?now=true" : "stop", null, cancellationToken);

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

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
