using System.Net;
using System.Text;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Tests.Client;

public sealed class JobStatusClientTests
{
    /// <summary>Answers from a script, recording what it was sent.</summary>
    private sealed class ScriptedHandler(params Func<HttpResponseMessage>[] script) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(script[Math.Min(Requests.Count - 1, script.Length - 1)]());
        }
    }

    private static JobStatusClient Create(ScriptedHandler handler, int retries = 3) => new(
        new JobStatusClientOptions
        {
            BaseAddress = new Uri("http://coordinator.test:7070/"),
            Job = "job-a",
            Token = "secret-token-0123456789",
            MaxRetries = retries,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(5),
        },
        new HttpClient(handler));

    private static HttpResponseMessage Json(HttpStatusCode status, string json, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, mediaType) };

    private const string StatusJson = """
        {"job":"job-a","state":"running","generation":3,"restarts":2,"worldSize":2,"rendezvousOpen":false,"heartbeatTimeoutSeconds":10,"members":[]}
        """;

    [Fact]
    public async Task GetStatusAsync_TransientFailuresThenOk_RetriesAndSendsBearerToken()
    {
        var handler = new ScriptedHandler(
            () => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            () => throw new HttpRequestException("connection refused"),
            () => Json(HttpStatusCode.OK, StatusJson));
        using JobStatusClient client = Create(handler);

        JobStatusView status = await client.GetStatusAsync();

        Assert.Equal((JobState.Running, 3L), (status.State, status.Generation));
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(("Bearer", "secret-token-0123456789"), (r.Headers.Authorization!.Scheme, r.Headers.Authorization.Parameter)));
        Assert.Equal("http://coordinator.test:7070/v1/jobs/job-a/status", handler.Requests[0].RequestUri!.ToString());
    }

    [Fact]
    public async Task StopAsync_StaleGeneration_NoRetryAndMustRejoin()
    {
        var handler = new ScriptedHandler(() => Json(HttpStatusCode.Conflict,
            """{"type":"urn:cmm:problem:stale-generation","title":"Stale generation","status":409,"detail":"generation 1 is stale","currentGeneration":4}""",
            "application/problem+json"));
        using JobStatusClient client = Create(handler);

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => client.StopAsync());

        Assert.Single(handler.Requests);
        Assert.True(refused.MustRejoin);
        Assert.Equal(4, refused.CurrentGeneration);
        Assert.Contains("generation 1 is stale", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatusAsync_CoordinatorDown_GivesUpAfterRetriesNamingTheAddress()
    {
        var handler = new ScriptedHandler(() => throw new HttpRequestException("connection refused"));
        using JobStatusClient client = Create(handler, retries: 2);

        var failed = await Assert.ThrowsAsync<CoordinatorException>(() => client.GetStatusAsync());

        Assert.Equal(3, handler.Requests.Count);
        Assert.Contains("coordinator.test:7070", failed.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", failed.Message, StringComparison.Ordinal);
    }
}
