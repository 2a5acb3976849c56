using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

public sealed class RendezvousTests
{
    [Fact]
    public async Task Join_FewerThanWorkers_Waits()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3));

        JoinResponse first = await coordinator.JoinAsync("w0");
        JoinResponse second = await coordinator.JoinAsync("w1");

        Assert.Equal(JoinStatus.Waiting, first.Status);
        Assert.Equal(JoinStatus.Waiting, second.Status);
        Assert.True(second.RetryAfterSeconds > 0);
        JobStatusView status = await coordinator.Client().GetStatusAsync();
        Assert.Equal(JobState.Pending, status.State);
        Assert.True(status.RendezvousOpen);
        Assert.Equal(["w0", "w1"], status.Members.Select(m => m.WorkerId));
        Assert.All(status.Members, m => Assert.Equal(MemberState.Waiting, m.State));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task Join_AllWorkersJoined_AssignsDistinctRanksInJoinOrder(int workers)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: workers));
        string[] ids = Enumerable.Range(0, workers).Select(i => $"w{i}").ToArray();

        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync(ids);

        Assert.All(joined, j => Assert.Equal(JoinStatus.Assigned, j.Status));
        Assert.Equal(Enumerable.Range(0, workers), joined.Select(j => j.Rank));
        Assert.All(joined, j => Assert.Equal(workers, j.WorldSize));
        Assert.All(joined, j => Assert.Equal(1, j.Generation));
        Assert.All(joined, j => Assert.Null(j.LastCommittedStep));
        Assert.Equal(JobState.Running, (await coordinator.Client().GetStatusAsync()).State);
    }

    [Fact]
    public async Task Join_SameWorkerAgain_GetsSameRank()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.JoinAllAsync("w0", "w1");

        JoinResponse again = await coordinator.JoinAsync("w1");
        JoinResponse once = await coordinator.JoinAsync("w1");

        Assert.Equal((JoinStatus.Assigned, 1, 1L), (again.Status, again.Rank, again.Generation));
        Assert.Equal(again, once);
    }

    [Fact]
    public async Task Join_RendezvousTimeoutWithMinWorkers_AssignsSmallerWorld()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3, MinWorkers: 2));
        await coordinator.JoinAsync("w0");
        await coordinator.JoinAsync("w1");

        coordinator.Time.AdvanceSeconds(29);
        JoinResponse early = await coordinator.JoinAsync("w0");
        coordinator.Time.AdvanceSeconds(2);
        JoinResponse late = await coordinator.JoinAsync("w1");

        Assert.Equal(JoinStatus.Waiting, early.Status);
        Assert.Equal((JoinStatus.Assigned, 1, 2), (late.Status, late.Rank, late.WorldSize));
    }

    [Fact]
    public async Task Join_RendezvousTimeoutBelowMinWorkers_KeepsWaiting()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3, MinWorkers: 2));
        await coordinator.JoinAsync("w0");

        coordinator.Time.AdvanceSeconds(300);

        Assert.Equal(JoinStatus.Waiting, (await coordinator.JoinAsync("w0")).Status);
    }

    [Fact]
    public async Task Join_AWaitingWorkerStopsPolling_IsForgottenAndGetsNoRank()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3, MinWorkers: 2));
        await coordinator.JoinAsync("w0");
        await coordinator.JoinAsync("w1"); // and its process dies: it never polls again

        for (int second = 5; second <= 30; second += 5)
        {
            coordinator.Time.AdvanceSeconds(5);
            Assert.Equal(JoinStatus.Waiting, (await coordinator.JoinAsync("w0")).Status); // past the deadline, alone below MinWorkers
        }

        Assert.Equal(["w0"], (await coordinator.Client().GetStatusAsync()).Members.Select(m => m.WorkerId));
        JoinResponse newcomer = await coordinator.JoinAsync("w2");
        JoinResponse survivor = await coordinator.JoinAsync("w0");
        Assert.Equal((JoinStatus.Assigned, 1, 2), (newcomer.Status, newcomer.Rank, newcomer.WorldSize));
        Assert.Equal((JoinStatus.Assigned, 0), (survivor.Status, survivor.Rank));
    }

    [Fact]
    public async Task Join_JobFull_RefusedWithConflict()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.JoinAllAsync("w0", "w1");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.JoinAsync("w2"));

        Assert.Equal(System.Net.HttpStatusCode.Conflict, refused.Status);
        Assert.Equal(ProblemTypes.Conflict, refused.ProblemType);
        Assert.Contains("full", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_EmptyWorkerId_ValidationProblemNamesField()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.JoinAsync(" "));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("workerId", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_Assigned_GenerationNamesAReachableRendezvousOfItsOwn()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        TestClient client = coordinator.Client();

        JoinResponse joined = (await coordinator.JoinAllAsync("w0"))[0];

        var store = new CoordinatorRendezvousStore(client, joined.Generation);
        store.Set("hello", "rank0"u8.ToArray());
        Assert.Equal("rank0"u8.ToArray(), store.Get("hello", TimeSpan.FromSeconds(10)));
        // The generation's keys live under that generation only: another generation cannot read them.
        var other = await Assert.ThrowsAsync<CoordinatorException>(() => client.GetRendezvousAsync(joined.Generation + 1, "hello", TimeSpan.Zero));
        Assert.True(other.MustRejoin);
    }
}
