using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Join_ManyWorkersConcurrently_EachGetsOneDistinctRankInOneGeneration()
    {
        const int workers = 12;
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: workers));
        TestClient client = coordinator.Client();
        string[] ids = Enumerable.Range(0, workers).Select(i => $"w{i:D2}").ToArray();

        await Task.WhenAll(ids.Select(id => client.TryJoinAsync(id)));
        JoinResponse[] joined = await Task.WhenAll(ids.Select(id => client.TryJoinAsync(id)));

        Assert.All(joined, j => Assert.Equal((JoinStatus.Assigned, 1L, workers), (j.Status, j.Generation, j.WorldSize)));
        Assert.Equal(Enumerable.Range(0, workers), joined.Select(j => j.Rank).Order());
        ShardLedgerView shards = await client.GetShardsAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), shards.Assignments.Select(a => a.WorkerId).Order(StringComparer.Ordinal));
        Assert.Equal(joined.Select(j => j.Rank), ids.Select(id => shards.Assignments.Single(a => a.WorkerId == id).Rank));
    }

    [Fact]
    public async Task Heartbeat_AllRanksConcurrently_NoUpdateLost()
    {
        const int workers = 6;
        const int beats = 8;
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: workers));
        string[] ids = Enumerable.Range(0, workers).Select(i => $"w{i}").ToArray();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync(ids);
        TestClient client = coordinator.Client();

        await Task.WhenAll(joined.Select(async (j, i) =>
        {
            for (int step = 1; step <= beats; step++)
            {
                Assert.Equal(WorkerOrder.None, (await client.HeartbeatAsync(TestCoordinator.Beat(j, ids[i], step))).Order);
            }
        }));

        JobStatusView status = await client.GetStatusAsync();
        Assert.All(status.Members, m => Assert.Equal((MemberState.Running, (long?)beats), (m.State, m.LastStep)));
        Assert.Equal(1, status.Generation);
    }

    [Fact]
    public async Task ReportFailure_SameFailureFromAllRanksConcurrently_BumpsOnce()
    {
        const int workers = 4;
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: workers));
        string[] ids = Enumerable.Range(0, workers).Select(i => $"w{i}").ToArray();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync(ids);
        TestClient client = coordinator.Client();

        OrderReply[] replies = await Task.WhenAll(joined.Select((j, i) => client.ReportFailureAsync(new FailureReport(ids[i], 1, j.Rank, "allreduce: peer closed"))));

        Assert.All(replies, r => Assert.Equal((WorkerOrder.Rejoin, 2L), (r.Order, r.Generation)));
        JobStatusView status = await client.GetStatusAsync();
        Assert.Equal((2L, 1), (status.Generation, status.Restarts));
    }
}
