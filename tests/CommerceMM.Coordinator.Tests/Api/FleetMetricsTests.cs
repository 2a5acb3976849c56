using System.Text.Json;
using System.Net;
using System.Net.Http.Json;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>The coordinator's <c>/metrics</c>: fleet figures fed from the entities, and the straggler flag in status.</summary>
public sealed class FleetMetricsTests
{
    [Fact]
    public async Task Metrics_NoToken_ServesTheFleetBeforeAnyWorker()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3));

        using HttpResponseMessage response = await coordinator.Raw.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var scrape = new Scrape(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, scrape.Require("cmm_workers_expected"));
        Assert.Equal(1, scrape.Require("cmm_generation"));
        Assert.Equal(0, scrape.Require("cmm_workers{state=\"active\"}"));
        Assert.Null(scrape.Value("cmm_checkpoint_last_committed_step"));
        Assert.Equal(0, scrape.Require("cmm_restarts_total"));
    }

    [Fact]
    public async Task Metrics_Heartbeats_CountActiveAndSuspectAndAgePerRank()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 1));
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 1));

        coordinator.Time.AdvanceSeconds(3);
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 2));
        Scrape onTime = await coordinator.ScrapeAsync();
        coordinator.Time.AdvanceSeconds(3); // rank 0 silent 6 s: past half of the 10 s timeout, not yet evicted
        Scrape late = await coordinator.ScrapeAsync();

        Assert.Equal((2.0, 0.0), (onTime.Require("cmm_workers{state=\"active\"}"), onTime.Require("cmm_workers{state=\"suspect\"}")));
        Assert.Equal((3.0, 0.0), (onTime.Require("cmm_heartbeat_age_seconds{rank=\"0\"}"), onTime.Require("cmm_heartbeat_age_seconds{rank=\"1\"}")));
        Assert.Equal((1.0, 1.0), (late.Require("cmm_workers{state=\"active\"}"), late.Require("cmm_workers{state=\"suspect\"}")));
        Assert.Equal(6, late.Require("cmm_heartbeat_age_seconds{rank=\"0\"}"));
    }

    [Fact]
    public async Task Heartbeats_SameWallTimeButOneRankComputesLonger_FlagsThatRankInMetricsAndStatus()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        // Synchronous all-reduce: both ranks take 0.5 s a step, but rank 1 spends 0.3 s of it waiting for rank 0.
        for (long step = 1; step <= 10; step++)
        {
            await client.HeartbeatAsync(Beat(joined[0], "w0", step, allReduce: 0.02));
            await client.HeartbeatAsync(Beat(joined[1], "w1", step, allReduce: 0.32));
        }

        Scrape scrape = await coordinator.ScrapeAsync();
        JobStatusView status = await client.GetStatusAsync();

        Assert.Equal((1.0, 0.0), (scrape.Require("cmm_straggler{rank=\"0\"}"), scrape.Require("cmm_straggler{rank=\"1\"}")));
        Assert.Equal(0.47 / 0.17, scrape.Require("cmm_rank_step_time_ratio{rank=\"0\"}"), 4); // step times travel as ticks
        MemberView slow = status.Members.Single(m => m.Rank == 0);
        MemberView fast = status.Members.Single(m => m.Rank == 1);
        Assert.Equal((true, false), (slow.Straggler, fast.Straggler));
        Assert.Equal(0.17 / 0.47, fast.StepTimeRatio!.Value, 4);
    }

    [Fact]
    public async Task Heartbeat_RepeatedStep_IsObservedOnce()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        // Five heartbeats of one step (a rank waiting on a checkpoint order) are one sample, below the 5 a rank needs.
        for (int i = 0; i < 5; i++)
        {
            await client.HeartbeatAsync(Beat(joined[0], "w0", 3, allReduce: 0));
            await client.HeartbeatAsync(Beat(joined[1], "w1", 3 + i, allReduce: 0.3));
        }

        JobStatusView status = await client.GetStatusAsync();

        Assert.All(status.Members, m => Assert.Null(m.StepTimeRatio));
    }

    [Fact]
    public async Task FailureReport_ThenRejoin_CountsRestartGenerationAndLostWorkers()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 4));
        await coordinator.ScrapeAsync();

        await client.ReportFailureAsync(new FailureReport("w0", 1, 0, "all-reduce timed out"));
        await client.TryJoinAsync("w0");
        Scrape gathering = await coordinator.ScrapeAsync();
        coordinator.Time.AdvanceSeconds(31); // the rendezvous deadline: generation 3 goes on without w1
        await client.TryJoinAsync("w0");
        Scrape assigned = await coordinator.ScrapeAsync();

        Assert.Equal(2, gathering.Require("cmm_generation"));
        Assert.Equal(1, gathering.Require("cmm_restarts_total"));
        Assert.Equal((1.0, 1.0), (gathering.Require("cmm_workers{state=\"joining\"}"), gathering.Require("cmm_workers{state=\"lost\"}")));
        Assert.Equal((1.0, 1.0), (assigned.Require("cmm_workers{state=\"joining\"}"), assigned.Require("cmm_workers{state=\"lost\"}")));
        Assert.Null(assigned.Value("cmm_heartbeat_age_seconds{rank=\"0\"}")); // generation 1's heartbeats are gone
    }

    [Fact]
    public async Task Commit_ThenTime_ReportsCommittedStepAndAgeFromTheCommit()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0)));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1)));

        coordinator.Time.AdvanceSeconds(42);
        Scrape scrape = await coordinator.ScrapeAsync();

        Assert.Equal(20, scrape.Require("cmm_checkpoint_last_committed_step"));
        Assert.Equal(42, scrape.Require("cmm_checkpoint_age_seconds"));
    }

    [Fact]
    public async Task JobState_FollowsTheJob_FailedWhenItEndsWithoutItsFinalCheckpoint()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 4));
        Scrape running = await coordinator.ScrapeAsync();

        await client.CompleteAsync(new CompletionReport("w0", 1, 0, 9)); // nothing committed at step 9
        Scrape failed = await coordinator.ScrapeAsync();

        Assert.Equal((1.0, 0.0), (running.Require("cmm_job_state{state=\"running\"}"), running.Require("cmm_job_state{state=\"failed\"}")));
        Assert.Equal((0.0, 1.0), (failed.Require("cmm_job_state{state=\"running\"}"), failed.Require("cmm_job_state{state=\"failed\"}")));
        Assert.Equal(0, failed.Require("cmm_job_state{state=\"completed\"}"));
    }

    [Fact]
    public async Task Completion_CountsEveryMemberAsExited()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await CheckpointFiles.CommitAsync(coordinator, joined, 9); // the final checkpoint

        await client.CompleteAsync(new CompletionReport("w0", 1, 0, 9));
        Scrape scrape = await coordinator.ScrapeAsync();

        Assert.Equal((2.0, 0.0), (scrape.Require("cmm_workers{state=\"exited\"}"), scrape.Require("cmm_workers{state=\"joining\"}")));
    }

    [Fact]
    public async Task Heartbeat_MetricsUrl_ShownInStatusAndKeptWhenLaterBeatsOmitIt()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 1) with { MetricsUrl = "http://10.0.0.7:9401/metrics" });
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 2));
        JobStatusView status = await client.GetStatusAsync();

        Assert.Equal("http://10.0.0.7:9401/metrics", status.Members.Single(m => m.Rank == 0).MetricsUrl);
        Assert.Null(status.Members.Single(m => m.Rank == 1).MetricsUrl);
    }

    [Theory]
    [InlineData("""{"metricsUrl":"ftp://host/metrics"}""", "metricsUrl")]
    [InlineData("""{"allReduceSeconds":-1}""", "allReduceSeconds")]
    public async Task Heartbeat_BadNewField_IsRefusedNamingIt(string extra, string field)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        string body = $$"""{"workerId":"w0","generation":1,"rank":{{joined[0].Rank}},"step":1,{{extra[1..^1]}}}""";

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.Client().HeartbeatAsync(Wire(body)));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains($"{field}:", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_FromAnOlderClientWithoutTheNewFields_IsAccepted()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        string body = $$"""{"workerId":"w0","generation":1,"rank":{{joined[0].Rank}},"step":1,"stepSeconds":0.5,"dataWaitSeconds":0.1}""";

        OrderReply reply = await coordinator.Client().HeartbeatAsync(Wire(body));

        Assert.Equal(1, reply.Generation);
    }

    /// <summary>A heartbeat as the wire dialect reads it (grain calls carry contracts in it, as the HTTP API did).</summary>
    private static HeartbeatRequest Wire(string json) => JsonSerializer.Deserialize<HeartbeatRequest>(json, CoordinatorJson.Options)!;

    private static HeartbeatRequest Beat(JoinResponse joined, string workerId, long step, double allReduce) =>
        new(workerId, joined.Generation, joined.Rank, step, null, StepSeconds: 0.5, DataWaitSeconds: 0.01, AllReduceSeconds: allReduce);
}
