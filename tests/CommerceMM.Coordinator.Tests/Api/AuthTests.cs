using System.Net;
using System.Net.Http.Json;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

public sealed class AuthTests
{
    [Theory]
    [InlineData("GET", "/v1/jobs/job-a/status")]
    [InlineData("GET", "/v1/jobs/job-a/checkpoints")]
    [InlineData("GET", "/v1/jobs/job-a/shards")]
    [InlineData("POST", "/v1/jobs/job-a/stop")]
    public async Task Request_WithoutToken_Unauthorized(string method, string path)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        using HttpRequestMessage request = coordinator.Request(new HttpMethod(method), path, token: null);
        request.Content = JsonContent.Create(new { workerId = "w0" });

        using HttpResponseMessage response = await coordinator.Raw.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains(ProblemTypes.Unauthorized, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(JobState.Pending, (await coordinator.Client().GetStatusAsync()).State); // nothing happened
    }

    [Fact]
    public async Task Request_WrongToken_UnauthorizedAndTokenNotEchoed()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        using HttpRequestMessage request = coordinator.Request(HttpMethod.Get, "/v1/jobs/job-a/status", token: "not-the-token-at-all");

        using HttpResponseMessage response = await coordinator.Raw.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("not-the-token-at-all", body, StringComparison.Ordinal);
        Assert.DoesNotContain(TestCoordinator.Token, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("join")]
    [InlineData("heartbeat")]
    [InlineData("vote")]
    [InlineData("order")]
    public async Task WorkerCall_WrongToken_UnauthorizedAndNothingChanges(string call)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient intruder = coordinator.Client("wrong-token-0123456789");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => call switch
        {
            "join" => intruder.TryJoinAsync("w9"),
            "heartbeat" => intruder.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 5)),
            "vote" => intruder.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 5, [])),
            _ => intruder.OrderCheckpointAsync(new CheckpointOrderRequest(1, 5, "intruder")),
        });

        Assert.True(refused.IsUnauthorized);
        JobStatusView status = await coordinator.Client().GetStatusAsync();
        Assert.Equal((1L, 2, null), (status.Generation, status.WorldSize, status.PendingCheckpoint)); // nothing happened
        Assert.All(status.Members, m => Assert.Equal(MemberState.Starting, m.State)); // no heartbeat counted
    }

    [Fact]
    public async Task Client_WrongToken_ThrowsUnauthorizedWithClearMessage()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.Client("wrong-token-0123456789").TryJoinAsync("w0"));

        Assert.True(refused.IsUnauthorized);
        Assert.Contains("refused the token for job 'job-a'", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-token", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_WithoutToken_Ok()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();

        HealthView? health = await coordinator.Raw.GetFromJsonAsync<HealthView>("/healthz", CoordinatorJson.Options);

        Assert.Equal("ok", health!.Status);
    }

    [Fact]
    public async Task Request_UnknownJob_NotFound()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        using HttpRequestMessage request = coordinator.Request(HttpMethod.Get, "/v1/jobs/job-b/status");

        using HttpResponseMessage response = await coordinator.Raw.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(ProblemTypes.UnknownJob, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
