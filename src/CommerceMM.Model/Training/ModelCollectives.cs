using CommerceMM.Collectives;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>
/// The few collectives the model itself needs (the gradient all-reduce belongs to the trainer). With
/// no process group every call is the single-process identity, so one code path serves both. Small
/// counts travel as int64 tensors on the group's device (Gloo: the CPU, NCCL: the GPU).
/// </summary>
public sealed class ModelCollectives(ProcessGroup? group)
{
    public static readonly ModelCollectives Single = new(null);

    public int Rank => group?.Rank ?? 0;
    public int World => group?.Size ?? 1;

    /// <summary>All ranks' rows in rank order; the backward pass sums gradients across ranks (MODEL.md §5).</summary>
    public Tensor GatherWithGrad(Tensor local) => group is null ? local.alias() : group.AllGatherWithGrad(local);

    /// <summary>Where this rank's rows start in the gathered batch, and how many rows all ranks hold together.</summary>
    public (long Offset, long Total) RowSpan(long localRows)
    {
        if (group is null) return (0, localRows);
        using var mine = torch.tensor(new long[] { localRows }, device: group.Device);
        using var all = group.AllGather(mine);
        long[] counts = Scalars.ToArray<long>(all);
        return (counts.Take(Rank).Sum(), counts.Sum());
    }

    /// <summary>Element-wise sums over ranks of small integer counts.</summary>
    public long[] SumCounts(long[] local)
    {
        if (group is null) return local;
        using var t = torch.tensor(local, device: group.Device);
        group.AllReduce(t, ReduceOp.Sum);
        return Scalars.ToArray<long>(t);
    }

    /// <summary>In-place sum over ranks.</summary>
    public void Sum(Tensor t)
    {
        if (group is not null) group.AllReduce(t, ReduceOp.Sum);
    }
}
