using System.Net;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>
/// <c>cmm stop</c>: a training job stops at a checkpoint every rank saves and holds at, for good (a joining worker does not
/// reopen it; a relaunch does). Stopping at once (<c>--now</c>) is in <see cref="HeartbeatTests"/>.
/// </summary>
public sealed class StopTests
{
    [Fact]
    public async Task Stop_WhileTraining_OrdersACheckpointEveryRankHoldsAt_AndTheJobStopsOnceItCommits_ForGood()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        JobStatusView asked = await client.StopAsync();
        OrderReply order = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 8));
        long at = order.CheckpointStep!.Value;
        await CheckpointFiles.CommitAsync(coordinator, joined, at, order: false);
        OrderReply stop = await client.HeartbeatAsync(TestCoordinator.Alive(joined[1], "w1", at));
        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.Client(incarnation: "w0-again").TryJoinAsync("w0"));
        JobStatusView after = await client.GetStatusAsync();

        Assert.Equal((JobState.Running, true), (asked.State, asked.StopRequested));
        Assert.Equal((WorkerOrder.Checkpoint, true, "stop requested"), (order.Order, order.GenerationEndsAtCheckpoint, order.Reason));
        Assert.True(at > 8, $"the stop's checkpoint at step {at} is not ahead of the rank");
        Assert.Equal((WorkerOrder.Stop, JobState.Stopped), (stop.Order, stop.JobState));
        Assert.Equal($"stopped by request after checkpoint at step {at}; resumable: a relaunch resumes it", stop.Reason);
        Assert.Equal(JobState.Stopped, refused.EndedState);
        Assert.Equal((JobState.Stopped, false, at), (after.State, after.StopRequested, after.LastCommittedCheckpoint!.Step));
    }

    [Fact]
    public async Task AHeartbeatThatReadTheStopRequestBeforeTheStopCommitted_OrdersNoCheckpointAfterIt()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.StopAsync();
        long at = (await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 8))).CheckpointStep!.Value;
        await CheckpointFiles.CommitAsync(coordinator, joined, at, order: false);

        // What the gateway does with a job snapshot it read just before the commit ended the job.
        ICheckpointGrain checkpoints = coordinator.Host.Grains(coordinator.Spec.Name).Checkpoints;
        GrainResult<CheckpointProgress> late = await checkpoints.OnProgressAsync(joined[0].Generation, 2, 0, at, leadSteps: 2, stopRequested: true);
        JobStatusView status = await client.GetStatusAsync();

        Assert.Null(late.Value!.Order);
        Assert.Equal((JobState.Stopped, null, at), (status.State, status.PendingCheckpoint, status.LastCommittedCheckpoint!.Step));
    }

    [Fact]
    public async Task Stop_WithANowThatIsNoBoolean_IsRefusedNamingIt_AndTheJobRunsOn()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.JoinAllAsync("w0", "w1");

        using HttpRequestMessage request = coordinator.Request(HttpMethod.Post, "/v1/jobs/job-a/stop?now=yes");
        using HttpResponseMessage response = await coordinator.Raw.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        JobStatusView status = await coordinator.Client().GetStatusAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("now", body, StringComparison.Ordinal);
        Assert.Equal((JobState.Running, false), (status.State, status.StopRequested));
    }

    [Fact]
    public async Task Stop_WhileAnOrderNoRankReachedIsOpen_StopsAtThatOne_MovedUpFromFarAhead()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20, Reason: "operator"));

        await client.StopAsync();
        OrderReply order = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 5));
        JobStatusView status = await client.GetStatusAsync();

        Assert.Equal((WorkerOrder.Checkpoint, true, "operator; stop requested"), (order.Order, order.GenerationEndsAtCheckpoint, order.Reason));
        Assert.InRange(order.CheckpointStep!.Value, 6L, 19L); // not 15 steps on: as soon as every rank hears of it
        Assert.Equal((true, order.CheckpointStep), (status.StopRequested, status.PendingCheckpoint!.Step));
    }

    [Fact]
    public async Task Stop_WhoseCheckpointFailed_IsOrderedAgain_AndTheJobTrainsOnUntilOneCommits()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.StopAsync();
        long first = (await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 8))).CheckpointStep!.Value;

        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", first, []) with { Failure = "the disk is full" });
        OrderReply again = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", first + 1));
        JobStatusView status = await client.GetStatusAsync();

        Assert.Equal((WorkerOrder.Checkpoint, true, "stop requested"), (again.Order, again.GenerationEndsAtCheckpoint, again.Reason));
        Assert.True(again.CheckpointStep > first + 1, $"the stop's second checkpoint at step {again.CheckpointStep} is not ahead of the rank");
        Assert.Equal((JobState.Running, true), (status.State, status.StopRequested));
    }
}
