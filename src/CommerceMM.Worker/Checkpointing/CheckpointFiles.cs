using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using static TorchSharp.torch;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>The files of a CommerceMM checkpoint step folder.</summary>
public static class CheckpointFiles
{
    /// <summary>Model state (student, EMA teacher, mim centre) in safetensors: loadable by PyTorch tools.</summary>
    public const string Model = "model.safetensors";

    /// <summary>AdamW moments in safetensors, the step count in its metadata.</summary>
    public const string Optimizer = "optimizer.safetensors";

    /// <summary>
    /// The files every rank holds alike (weights and optimizer state), copied into host memory from any device: the
    /// part of a save training waits for. Training may change the tensors as soon as this returns.
    /// </summary>
    /// <param name="buffers">the arrays' pool: give them back (<see cref="Release"/>) once the upload no longer reads them</param>
    public static IReadOnlyList<SnapshotFile> Capture(nn.Module module, AdamWOptimizer optimizer, HostBufferPool buffers) =>
        [new SnapshotFile(Model, SafeTensors.ToBytes(module.StateDict(), buffers: buffers)), new SnapshotFile(Optimizer, optimizer.ToBytes(buffers))];

    /// <summary>Gives the arrays of files made by <see cref="Capture"/> back to their pool.</summary>
    public static void Release(IEnumerable<SnapshotFile> files, HostBufferPool buffers)
    {
        foreach (var file in files) buffers.Return(file.Content);
    }
}
