using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>
/// The differentiable all-gather (MODEL.md §5). Forward: every rank's rows, in rank order. Backward:
/// SUM the incoming gradient across ranks, then keep this rank's slice. Each rank's loss scores its
/// local rows against all gathered columns, so the gradient for my rows as columns lives on the
/// other ranks; summing collects it. With the usual averaging all-reduce of parameter gradients,
/// N ranks x B rows then equal 1 rank x N*B rows.
/// </summary>
internal sealed class AllGatherFunction : autograd.SingleTensorFunction<AllGatherFunction>
{
    public override string Name => "CommerceMM.AllGatherWithGrad";

    /// <param name="vars">the local rows, the <see cref="ProcessGroup"/>, the <see cref="TimeSpan"/> timeout</param>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var local = (Tensor)vars[0];
        var group = (ProcessGroup)vars[1];
        var timeout = (TimeSpan)vars[2];
        var gathered = group.AllGatherRows(local, timeout, out long[] rowCounts);
        ctx.save_data("group", group);
        ctx.save_data("timeout", timeout);
        ctx.save_data("start", rowCounts.Take(group.Rank).Sum());
        ctx.save_data("rows", rowCounts[group.Rank]);
        return gathered;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var group = (ProcessGroup)ctx.get_data("group");
        long start = (long)ctx.get_data("start"), rows = (long)ctx.get_data("rows");
        // Every rank holds a gradient for all gathered rows, with equal shapes everywhere.
        var summed = gradOutput.contiguous().clone();
        try
        {
            group.AllReduce(summed, ReduceOp.Sum, (TimeSpan)ctx.get_data("timeout"));
        }
        catch (Exception e)
        {
            // An exception must not unwind into libtorch's engine (it would end the process). The
            // group remembers it and its next call throws; the NaN keeps the step from looking sane.
            group.RecordBackwardFailure(e);
            using var nan = double.NaN.ToScalar();
            summed.fill_(nan);
        }
        return [summed.narrow(0, start, rows), null!, null!];
    }
}
