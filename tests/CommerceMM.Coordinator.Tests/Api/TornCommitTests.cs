using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.Tests.Checkpoints;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>
/// The whole job killed at each point of a checkpoint commit, then relaunched: the coordinator's store dies at that
/// point (<see cref="CrashingBlobStore"/>, so nothing after it reaches storage), a new host starts on what was left,
/// and the relaunched workers (new processes) at once ask for a SIGTERM checkpoint, which must commit. The coordinator,
/// restore and 'latest' must agree on the last committed step. Each store has a subclass.
/// </summary>
public abstract class TornCommitTests
{
    private const string Job = "job-a";

    /// <summary>A new, empty store for one test's job; null: the test coordinator's own file store.</summary>
    protected abstract Task<IBlobStore?> CreateStoreAsync();

    public static TheoryData<string, long> CrashPoints => new()
    {
        { "files partly written", 10 },        // rank 0 died uploading: its vote never came
        { "before the manifest", 10 },         // every vote in, the commit's first write never happened
        { "manifest written", 10 },            // killed before verifying: aborted on start-up
        { "verified, latest not moved", 10 },  // the torn commit: aborted on start-up
        { "latest moved, state not saved", 20 }, // storage committed, the coordinator never recorded it
    };

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task KillAtCrashPoint_Relaunch_AllAgreeAndASigtermCheckpointCommits(string crashPoint, long committed)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(store: await CreateStoreAsync());
        bool armed = false;
        CrashingBlobStore? dying = null;
        coordinator.WrapStore = store => dying = new CrashingBlobStore(store, (op, key) => armed && Matches(crashPoint, op, key));
        await coordinator.RestartAsync(); // the launch that will be killed runs on the dying store
        TestClient first = coordinator.Client(incarnation: "launch-1");
        IReadOnlyList<JoinResponse> joined = await JoinAsync(first);
        await CommitAsync(coordinator, first, joined, step: 10);
        await first.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20));
        await first.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, await CheckpointFiles.UploadAsync(coordinator.Store, Job, 20, 1)));
        if (crashPoint == "files partly written")
        {
            await CheckpointFiles.UploadAsync(coordinator.Store, Job, 20, 0, count: 1);
        }
        else
        {
            var files = await CheckpointFiles.UploadAsync(coordinator.Store, Job, 20, 0);
            armed = true;
            // The reply does not matter: a killed coordinator sends none (a retry may still be answered from memory here).
            await Record.ExceptionAsync(() => first.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 20, files)));
            Assert.True(dying!.Crashed, $"the crash point '{crashPoint}' was never reached");
        }

        coordinator.WrapStore = null;
        await coordinator.RestartAsync();
        TestClient relaunched = coordinator.Client(incarnation: "launch-2");
        IReadOnlyList<JoinResponse> rejoined = await JoinAsync(relaunched);
        CheckpointStatusView afterStart = await relaunched.GetCheckpointsAsync();
        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(coordinator.Store, Job);

        Assert.Equal(committed, afterStart.LastCommitted!.Step);
        Assert.Equal(committed, (await CheckpointCommitter.ReadLatestAsync(coordinator.Store, Job))!.Value.Pointer.Step);
        Assert.Equal(committed, restore.Checkpoint!.Step);
        Assert.DoesNotContain(await CheckpointCatalog.ListAsync(coordinator.Store, Job), f => f.HasManifest && f.Step > committed);
        Assert.Equal(committed, (await relaunched.GetShardsAsync()).LastCommitted!.Step);
        Assert.Equal(2, rejoined[0].Generation); // a relaunch is a new generation
        if (crashPoint is "manifest written" or "verified, latest not moved")
        {
            Assert.Contains("checkpoint at step 20 was not committed", afterStart.LastFailure, StringComparison.Ordinal);
            Assert.Contains("aborted when the coordinator started", afterStart.LastFailure, StringComparison.Ordinal);
        }

        // SIGTERM right after the relaunch: the workers restored 'committed' and each orders two steps on, leaving. Before the fix the
        // coordinator counted step 20 and refused any step up to it, and every worker exited 75.
        long sigterm = committed + 2;
        CheckpointOrderView order = await relaunched.OrderCheckpointAsync(new CheckpointOrderRequest(2, AtStep: sigterm, Reason: "preempted (SIGTERM)", Leaving: "w0"));
        await relaunched.OrderCheckpointAsync(new CheckpointOrderRequest(2, AtStep: sigterm, Reason: "preempted (SIGTERM)", Leaving: "w1"));
        await relaunched.VoteCheckpointAsync(CheckpointFiles.Vote(rejoined[1], "w1", sigterm, await CheckpointFiles.UploadAsync(coordinator.Store, Job, sigterm, 1)));
        CheckpointVoteReply last = await relaunched.VoteCheckpointAsync(CheckpointFiles.Vote(rejoined[0], "w0", sigterm, await CheckpointFiles.UploadAsync(coordinator.Store, Job, sigterm, 0)));

        Assert.Equal(sigterm, order.Step);
        Assert.Equal(CheckpointVoteStatus.Committed, last.Status);
        Assert.Equal(sigterm, (await CheckpointCommitter.ReadLatestAsync(coordinator.Store, Job))!.Value.Pointer.Step);
        JobStatusView status = await relaunched.GetStatusAsync();
        Assert.Equal((JobState.Stopped, sigterm), (status.State, status.LastCommittedCheckpoint!.Step));
    }

    [Fact]
    public async Task Restart_StateCountedAStepLatestNeverReached_FollowsLatest()
    {
        // What the coordinator before this fix left behind: it counted a torn step as committed in its own state.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(store: await CreateStoreAsync());
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await CommitAsync(coordinator, client, joined, step: 10);
        await CommitAsync(coordinator, client, joined, step: 20);
        LatestPointer ten = new(CheckpointManifest.CurrentFormatVersion, Job, 10, 1);
        await coordinator.Store.PutAsync(CheckpointLayout.LatestKey(Job), new MemoryStream(ten.ToJsonBytes()));

        await coordinator.RestartAsync();
        CheckpointStatusView checkpoints = await coordinator.Client().GetCheckpointsAsync();

        Assert.Equal(10, checkpoints.LastCommitted!.Step);
        Assert.Null(await CheckpointCatalog.ReadManifestAsync(coordinator.Store, Job, 20));
        Assert.Equal(12, (await coordinator.Client().OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 12))).Step);
    }

    private static bool Matches(string crashPoint, string op, string key) => crashPoint switch
    {
        "before the manifest" => op == CrashingBlobStore.Put && key.EndsWith("step-20/manifest.json", StringComparison.Ordinal),
        "manifest written" => op == CrashingBlobStore.Read && key.Contains("step-20/rank-", StringComparison.Ordinal),
        "verified, latest not moved" => op == CrashingBlobStore.Put && key.EndsWith("/checkpoints/latest", StringComparison.Ordinal),
        "latest moved, state not saved" => op == CrashingBlobStore.Put && key.EndsWith("/coordinator/ledger.json", StringComparison.Ordinal),
        _ => false,
    };

    private static async Task<IReadOnlyList<JoinResponse>> JoinAsync(TestClient client)
    {
        await client.TryJoinAsync("w0");
        await client.TryJoinAsync("w1");
        return [await client.TryJoinAsync("w0"), await client.TryJoinAsync("w1")];
    }

    private static async Task CommitAsync(TestCoordinator coordinator, CoordinatorClient client, IReadOnlyList<JoinResponse> joined, long step)
    {
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(joined[0].Generation, AtStep: step));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", step, await CheckpointFiles.UploadAsync(coordinator.Store, Job, step, 1)));
        CheckpointVoteReply reply = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", step, await CheckpointFiles.UploadAsync(coordinator.Store, Job, step, 0)));
        Assert.Equal(CheckpointVoteStatus.Committed, reply.Status);
    }
}
