using CommerceMM.Collectives;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>The files of a CommerceMM checkpoint step folder.</summary>
public static class CheckpointFiles
{
    /// <summary>Model state (student, EMA teacher, mim centre) in safetensors: loadable by PyTorch tools.</summary>
    public const string Model = "model.safetensors";

    /// <summary>AdamW moments in safetensors, the step count in its metadata.</summary>
    public const string Optimizer = "optimizer.safetensors";

    /// <summary>The data set's SentencePiece tokenizer the model trained with: its token ids mean what this file says they do.</summary>
    public const string Tokenizer = "tokenizer.model";

    /// <summary>
    /// The files every rank holds alike (weights and optimizer state): the part of a save training waits for.
    /// Training may change the tensors as soon as this returns. From the CPU the bytes are copied here; from a GPU
    /// the tensors are copied on the device here, and into the bytes by <see cref="CapturedState.Fill"/>, which the
    /// saver runs on its own thread while training goes on.
    /// </summary>
    /// <param name="buffers">the arrays' pool; <see cref="CapturedState.Release"/> gives them back once the upload no longer reads them</param>
    public static CapturedState Capture(nn.Module module, AdamWOptimizer optimizer, HostBufferPool buffers)
    {
        var weights = module.StateDict();
        var state = optimizer.StateTensors();
        if (!weights.Concat(state).Any(t => t.Tensor.device_type == DeviceType.CUDA))
        {
            SnapshotFile[] files = [new(Model, SafeTensors.ToBytes(weights, buffers: buffers)), new(Optimizer, SafeTensors.ToBytes(state, optimizer.StateMetadata, buffers))];
            return new CapturedState(files, null, () => ReturnBuffers(files, buffers));
        }
        DeviceSnapshotFile[] captured = [DeviceSnapshotFile.Capture(weights, null, buffers), DeviceSnapshotFile.Capture(state, optimizer.StateMetadata, buffers)];
        SnapshotFile[] deviceFiles = [new(Model, captured[0].Bytes), new(Optimizer, captured[1].Bytes)];
        return new CapturedState(
            deviceFiles,
            () =>
            {
                foreach (var file in captured) file.Fill(CopyToHost);
            },
            () =>
            {
                foreach (var file in captured) file.Dispose();
                ReturnBuffers(deviceFiles, buffers);
            });
    }

    /// <summary>Device copies into host places: the CUDA ones in one batch on the collectives library's copy stream.</summary>
    private static void CopyToHost(IReadOnlyList<(Tensor Source, Memory<byte> Destination)> places)
    {
        foreach (var group in places.GroupBy(p => p.Source.device_type == DeviceType.CUDA ? Math.Max(0, (int)p.Source.device_index) : -1))
        {
            if (group.Key >= 0)
                CudaMemory.CopyToHost(group.Key, group.Select(p => (TensorMemory.DataPointer(p.Source), p.Destination)).ToList());
            else
                foreach (var (source, destination) in group) TensorMemory.HostBytes(source).CopyTo(destination.Span);
        }
    }

    private static void ReturnBuffers(IEnumerable<SnapshotFile> files, HostBufferPool buffers)
    {
        foreach (var file in files) buffers.Return(file.Content);
    }
}

/// <summary>
/// The replicated files of a snapshot, with what its <see cref="CheckpointSnapshot"/> must carry: <paramref name="Fill"/>
/// (null when the bytes are complete) and <paramref name="Release"/> (the buffers back to their pool).
/// </summary>
public sealed record CapturedState(IReadOnlyList<SnapshotFile> Files, Action? Fill, Action Release)
{
    /// <summary>
    /// The snapshot of <paramref name="step"/>: these replicated files, with their fill and release, the unpooled
    /// <paramref name="alsoReplicated"/> (Release leaves those alone), and this rank's own files.
    /// </summary>
    public CheckpointSnapshot ToSnapshot(long step, IReadOnlyList<SnapshotFile> rankLocal, IReadOnlyList<SnapshotFile>? alsoReplicated = null) =>
        new(step, [.. Files, .. alsoReplicated ?? []], rankLocal) { Fill = Fill, Release = Release };
}
