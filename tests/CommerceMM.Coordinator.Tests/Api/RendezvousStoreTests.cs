using System.Text.Json;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Grains.Rendezvous;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>The rendezvous keys ranks meet through, kept by the coordinator per generation, and the client's store over them.</summary>
public sealed class RendezvousStoreTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Get_KeySetLater_WaitsForTheSet()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        var rank0 = new CoordinatorRendezvousStore(coordinator.Client(), joined[0].Generation);
        var rank1 = new CoordinatorRendezvousStore(coordinator.Client(), joined[1].Generation);

        var clock = Stopwatch.StartNew();
        Task<byte[]> reading = Task.Run(() => rank1.Get("rank_0/address", Patience));
        await Task.Delay(300);
        Assert.False(reading.IsCompleted); // still waiting on the server
        rank0.Set("rank_0/address", [10, 0, 0, 7]);

        Assert.Equal([10, 0, 0, 7], await reading.WaitAsync(Patience));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the read took {clock.Elapsed}: it should end with the set, not a poll later");
    }

    [Fact]
    public async Task Get_KeyNeverSet_TimesOutNamingTheKeyAndTheCoordinator()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        JoinResponse joined = (await coordinator.JoinAllAsync("w0"))[0];
        var store = new CoordinatorRendezvousStore(coordinator.Client(), joined.Generation);

        var clock = Stopwatch.StartNew();
        var timedOut = Assert.Throws<TimeoutException>(() => store.Get("nccl/unique-id", TimeSpan.FromSeconds(1)));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
        Assert.Contains("'nccl/unique-id'", timedOut.Message, StringComparison.Ordinal);
        Assert.Contains(coordinator.Host.Gateway, timedOut.Message, StringComparison.Ordinal);
        Assert.Contains("generation 1", timedOut.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bump_OldGenerationKeysAreGone_AndItsReadsAndWritesRefusedAsStale()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        TestClient client = coordinator.Client();
        IReadOnlyList<JoinResponse> first = await coordinator.JoinAllAsync("w0", "w1");
        var old = new CoordinatorRendezvousStore(client, first[0].Generation);
        old.Set("rank_0", "gen-1 address"u8.ToArray());
        old.Set("rank_1", "gen-1 address"u8.ToArray());
        Assert.Equal(2, await KeyCountAsync(coordinator));

        await client.ReportFailureAsync(new FailureReport("w1", first[1].Generation, first[1].Rank, "peer vanished"));
        IReadOnlyList<JoinResponse> second = await coordinator.JoinAllAsync("w0", "w1");

        Assert.Equal(2L, second[0].Generation);
        Assert.Equal(0, await KeyCountAsync(coordinator)); // dropped with the bump, not merely hidden
        var store = new CoordinatorRendezvousStore(client, second[0].Generation);
        Assert.False((await client.GetRendezvousAsync(second[0].Generation, "rank_0", TimeSpan.Zero)).Found); // no old key satisfies the new rendezvous
        var lateWrite = Assert.Throws<CoordinatorException>(() => old.Set("rank_0", "late"u8.ToArray()));
        var lateRead = Assert.Throws<CoordinatorException>(() => old.Get("rank_1", Patience));
        foreach (CoordinatorException refused in new[] { lateWrite, lateRead })
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.Status);
            Assert.Equal(ProblemTypes.StaleGeneration, refused.ProblemType);
            Assert.True(refused.MustRejoin);
            Assert.Equal(2L, refused.CurrentGeneration);
            Assert.Contains("generation 1 is over", refused.Message, StringComparison.Ordinal);
        }

        store.Set("rank_0", "gen-2 address"u8.ToArray());
        Assert.Equal("gen-2 address"u8.ToArray(), store.Get("rank_0", Patience));
    }

    [Fact]
    public async Task Bump_WhileAReadWaits_TheReadIsRefusedAsStaleAtOnce()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        TestClient client = coordinator.Client();
        IReadOnlyList<JoinResponse> first = await coordinator.JoinAllAsync("w0", "w1");
        var old = new CoordinatorRendezvousStore(client, first[0].Generation);

        var clock = Stopwatch.StartNew();
        Task<byte[]> waiting = Task.Run(() => old.Get("rank_1", TimeSpan.FromSeconds(60)));
        await Task.Delay(300);
        await client.ReportFailureAsync(new FailureReport("w1", first[1].Generation, first[1].Rank, "peer vanished"));

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => waiting.WaitAsync(Patience));
        Assert.True(refused.MustRejoin);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the waiting read ended after {clock.Elapsed}: a bump should release it");
    }

    [Fact]
    public async Task Generations_NewerThanTheCoordinators_Refused()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        await coordinator.JoinAllAsync("w0");

        var refused = Assert.Throws<CoordinatorException>(() => new CoordinatorRendezvousStore(coordinator.Client(), 7).Set("k", [1]));

        Assert.Equal(ProblemTypes.StaleGeneration, refused.ProblemType);
        Assert.Contains("generation 7 is newer than the coordinator's (1)", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("set")]
    [InlineData("get")]
    public async Task Request_WrongToken_UnauthorizedAndNothingSet(string call)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        await coordinator.JoinAllAsync("w0");
        TestClient intruder = coordinator.Client("wrong-token-0123456789");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => call == "set"
            ? intruder.SetRendezvousAsync(1, "k", [1, 2, 3])
            : intruder.GetRendezvousAsync(1, "k", TimeSpan.Zero));

        Assert.True(refused.IsUnauthorized);
        Assert.Equal(ProblemTypes.Unauthorized, refused.ProblemType);
        Assert.Equal(0, await KeyCountAsync(coordinator));
    }

    [Fact]
    public async Task Store_WrongToken_RefusedAsUnauthorized()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        await coordinator.JoinAllAsync("w0");
        var store = new CoordinatorRendezvousStore(coordinator.Client("wrong-token-0123456789"), 1);

        Assert.True(Assert.Throws<CoordinatorException>(() => store.Set("k", [1])).IsUnauthorized);
        Assert.True(Assert.Throws<CoordinatorException>(() => store.Get("k", Patience)).IsUnauthorized);
    }

    [Fact]
    public async Task Set_OversizedKeyOrValue_ValidationProblemNamesTheField()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        await coordinator.JoinAllAsync("w0");
        var store = new CoordinatorRendezvousStore(coordinator.Client(), 1);

        var longKey = Assert.Throws<CoordinatorException>(() => store.Set(new string('k', RendezvousLimits.MaxKeyLength + 1), [1]));
        var bigValue = Assert.Throws<CoordinatorException>(() => store.Set("k", new byte[RendezvousLimits.MaxValueBytes + 1]));

        Assert.Equal(HttpStatusCode.BadRequest, longKey.Status);
        Assert.Contains("key", longKey.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bigValue.Status);
        Assert.Contains("value", bigValue.Message, StringComparison.Ordinal);
        Assert.Equal(0, await KeyCountAsync(coordinator));
    }

    [Fact]
    public async Task Set_ValuePastTheLimit_RefusedNamingTheFieldAndNothingSet()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        await coordinator.JoinAllAsync("w0");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(
            () => coordinator.Client().SetRendezvousAsync(1, "k", new byte[4 * RendezvousLimits.MaxValueBytes]));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("value:", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await KeyCountAsync(coordinator));
    }

    [Fact]
    public async Task Get_MoreWaitingReadersThanCores_TheWritesStillGetThrough()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        JoinResponse joined = (await coordinator.JoinAllAsync("w0"))[0];
        TestClient client = coordinator.Client();
        int readers = Environment.ProcessorCount + 2; // more long polls than the gateway has activations

        var reads = Enumerable.Range(0, readers).Select(i => client.GetRendezvousAsync(joined.Generation, $"rank_{i}", TimeSpan.FromSeconds(15))).ToList();
        await Task.Delay(200);
        for (int i = 0; i < readers; i++)
        {
            await client.SetRendezvousAsync(joined.Generation, $"rank_{i}", [(byte)i]);
        }

        RendezvousValue[] values = await Task.WhenAll(reads);
        Assert.All(values, v => Assert.True(v.Found, $"'{v.Key}' was not seen: a waiting read held up the write"));
    }

    private static Task<int> KeyCountAsync(TestCoordinator coordinator) => coordinator.Host.Grains(coordinator.Spec.Name).Rendezvous.CountKeysAsync();
}
