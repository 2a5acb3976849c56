using System.Security.Cryptography;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Tests.Support;

/// <summary>Uploads a rank's checkpoint files the way a worker would, and describes them for a vote.</summary>
internal static class CheckpointFiles
{
    public static async Task<IReadOnlyList<CheckpointFile>> UploadAsync(IBlobStore store, string job, long step, int rank, int count = 2)
    {
        var files = new List<CheckpointFile>();
        for (int i = 0; i < count; i++)
        {
            byte[] content = new byte[64 + (rank * 7) + i];
            new Random(rank * 100 + i).NextBytes(content);
            string path = $"rank-{rank:D4}/part-{i}.bin";
            BlobWriteResult written = await store.PutAsync(CheckpointLayout.FileKey(job, step, path), new MemoryStream(content));
            Assert.True(written.Succeeded);
            files.Add(new CheckpointFile(path, content.Length, Convert.ToHexStringLower(SHA256.HashData(content))));
        }

        return files;
    }

    /// <summary>Both ranks upload and vote for <paramref name="step"/>, after ordering it unless it is ordered already.</summary>
    public static async Task CommitAsync(TestCoordinator coordinator, IReadOnlyList<JoinResponse> joined, long step, bool order = true)
    {
        TestClient client = coordinator.Client();
        if (order) await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: step));
        await client.VoteCheckpointAsync(Vote(joined[1], "w1", step, await UploadAsync(coordinator.Store, "job-a", step, 1)));
        Assert.Equal(CheckpointVoteStatus.Committed,
            (await client.VoteCheckpointAsync(Vote(joined[0], "w0", step, await UploadAsync(coordinator.Store, "job-a", step, 0)))).Status);
    }

    public static CheckpointVote Vote(JoinResponse joined, string workerId, long step, IReadOnlyList<CheckpointFile> files, string configHash = "cfg-1") =>
        new(workerId, joined.Generation, joined.Rank, step, files, configHash, "test",
            System.Text.Json.JsonSerializer.SerializeToElement(new { epoch = 0, offset = step * 10 + joined.Rank }));
}
