using CommerceMM.Collectives.Interop;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

public sealed partial class ProcessGroup
{
    // Each rank's description of what it sends: element type, rank (number of dims), rows, then the
    // row shape. Gathered first, so every rank knows the row counts and sees a mismatch at once.
    private const int MaxDims = 9;
    private const int HeaderLength = 3 + MaxDims - 1;

    /// <summary>Every rank's rows (row counts may differ, row shapes and types may not), concatenated in rank order. No gradient.</summary>
    public Tensor AllGather(Tensor tensor, TimeSpan? timeout = null) => AllGatherRows(tensor, timeout ?? Timeout, out _);

    /// <summary>
    /// All-gather that autograd differentiates: the backward pass sums the incoming gradient across
    /// ranks and returns this rank's slice. Score local rows against the gathered columns and the
    /// averaged parameter gradients of N ranks equal the single-process gradient (MODEL.md §5).
    /// This group must stay alive until the backward pass has run. A backward pass that cannot
    /// all-reduce returns a NaN gradient (it must not throw into libtorch) and the group's next call throws.
    /// </summary>
    public Tensor AllGatherWithGrad(Tensor tensor, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return AllGatherFunction.apply(tensor, this, timeout ?? Timeout);
    }

    /// <param name="rowCounts">rows per rank, in rank order</param>
    internal Tensor AllGatherRows(Tensor tensor, TimeSpan timeout, out long[] rowCounts)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        TensorBuffers.CheckDevice(tensor, Device, "all_gather");
        if (tensor.dim() < 1) throw new ArgumentException("all_gather needs a tensor with at least one dimension (rows)", nameof(tensor));
        if (tensor.dim() > MaxDims) throw new ArgumentException($"all_gather takes at most {MaxDims} dimensions; got shape {TensorMemory.FormatShape(tensor.shape)}", nameof(tensor));
        int type = TensorBuffers.ElementType(tensor, "all_gather");

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var local = tensor.detach().contiguous();
        long[][] headers = GatherHeaders(local, type, timeout);
        rowCounts = CheckHeaders(headers, local);
        long[] rowShape = local.shape[1..];
        long rowElements = rowShape.Aggregate(1L, (a, b) => a * b);
        var gathered = _backend == CollectiveBackend.Gloo
            ? GatherUneven(local, type, rowCounts, rowShape, rowElements, timeout)
            : GatherPadded(local, type, rowCounts, rowShape, timeout);
        return gathered.MoveToOuterDisposeScope();
    }

    private long[][] GatherHeaders(Tensor local, int type, TimeSpan timeout)
    {
        var header = new long[HeaderLength];
        header[0] = type;
        header[1] = local.dim();
        for (int d = 0; d < local.dim(); d++) header[2 + d] = local.shape[d];
        var mine = torch.tensor(header, device: Device);
        var all = torch.empty(Size * HeaderLength, ScalarType.Int64, device: Device);
        GatherEqual(mine, all, HeaderLength, 2, timeout, "all_gather (row counts)");
        long[] flat = all.cpu().data<long>().ToArray();
        return Enumerable.Range(0, Size).Select(r => flat[(r * HeaderLength)..((r + 1) * HeaderLength)]).ToArray();
    }

    // Every rank sees every header, so a mismatch fails on all ranks alike: none is left waiting.
    private long[] CheckHeaders(long[][] headers, Tensor local)
    {
        static string Describe(long[] h) => h[1] is >= 1 and <= MaxDims
            ? $"{(ScalarTypeName)h[0]} rows of shape {TensorMemory.FormatShape(h.AsSpan(3, (int)h[1] - 1))}"
            : $"a malformed header [{string.Join(", ", h)}]";
        var mine = headers[Rank];
        for (int r = 0; r < Size; r++)
        {
            var h = headers[r];
            bool same = h[0] == mine[0] && h[1] == mine[1] && h.AsSpan(3).SequenceEqual(mine.AsSpan(3));
            if (!same)
                throw new CollectiveException(CollectiveError.InvalidArgument,
                    $"all_gather: rank {r} sends {Describe(h)} but rank {Rank} sends {Describe(mine)} (local shape {TensorMemory.FormatShape(local.shape)}); row shapes and types must agree on every rank");
        }
        return headers.Select(h => h[2]).ToArray();
    }

    private unsafe Tensor GatherUneven(Tensor local, int type, long[] rowCounts, long[] rowShape, long rowElements, TimeSpan timeout)
    {
        var output = torch.empty([rowCounts.Sum(), .. rowShape], local.dtype, device: Device);
        long[] counts = rowCounts.Select(r => r * rowElements).ToArray();
        using var blocked = _waits.Enter();
        fixed (long* c = counts)
            NativeStatus.Check(NativeMethods.cmm_allgatherv(Handle, TensorMemory.DataPointer(local), c, type, TensorMemory.DataPointer(output), NativeStatus.Millis(timeout)), "all_gather");
        GC.KeepAlive(local);
        return output;
    }

    // NCCL gathers equal sizes only: pad every rank to the longest, gather, then drop the padding.
    private Tensor GatherPadded(Tensor local, int type, long[] rowCounts, long[] rowShape, TimeSpan timeout)
    {
        long maxRows = rowCounts.Max();
        var padded = local;
        if (local.shape[0] < maxRows)
        {
            padded = torch.zeros([maxRows, .. rowShape], local.dtype, device: Device);
            padded.narrow(0, 0, local.shape[0]).copy_(local);
        }
        var all = torch.empty([Size * maxRows, .. rowShape], local.dtype, device: Device);
        GatherEqual(padded, all, padded.numel(), type, timeout, "all_gather");
        if (rowCounts.All(r => r == maxRows)) return all;
        return torch.cat(Enumerable.Range(0, Size).Select(r => all.narrow(0, r * maxRows, rowCounts[r])).ToArray(), 0);
    }

    private void GatherEqual(Tensor input, Tensor output, long elements, int type, TimeSpan timeout, string what)
    {
        using var blocked = _waits.Enter();
        NativeStatus.Check(NativeMethods.cmm_allgather(Handle, TensorMemory.DataPointer(input), elements, type, TensorMemory.DataPointer(output), NativeStatus.Millis(timeout)), what);
        GC.KeepAlive(input);
        GC.KeepAlive(output);
    }

    // Names for the native element type codes, for error messages.
    private enum ScalarTypeName
    {
        float32 = 0,
        float64 = 1,
        int64 = 2,
        int32 = 3,
        bfloat16 = 4,
    }
}
