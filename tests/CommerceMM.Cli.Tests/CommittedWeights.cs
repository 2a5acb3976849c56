using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Torch.Serialization;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Tests;

/// <summary>The float weights a job committed at a step, read back from its file blob store.</summary>
internal static class CommittedWeights
{
    public static async Task<Dictionary<string, float[]>> ReadAsync(string runs, string job, long step)
    {
        var store = new FileBlobStore(runs);
        var latest = await CheckpointCommitter.ReadLatestAsync(store, job);
        Assert.NotNull(latest);
        Assert.Equal(step, latest.Value.Pointer.Step);
        await using var download = await store.OpenReadAsync(CheckpointLayout.FileKey(job, step, CheckpointFiles.Model));
        Assert.NotNull(download);
        using var file = SafeTensors.Read(download.Content, "model.safetensors");
        return file.Tensors.Where(t => t.Tensor.DType == CommerceMM.Torch.DType.Float32).ToDictionary(t => t.Name, t => t.Tensor.ToArray<float>());
    }
}
