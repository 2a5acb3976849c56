using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>
/// Averages gradients across ranks in buckets of about <see cref="DefaultBucketBytes"/>, as
/// DistributedDataParallel does: one collective per bucket instead of one per parameter, every bucket in
/// flight at once. The buckets are views of the flat gradient buffer (<see cref="FlatParameters"/>), so the
/// all-reduce reads and writes the gradients in place: nothing is packed or unpacked.
/// Parameters without a gradient on this rank contribute zeros, so all ranks send equal buckets; a
/// parameter no rank produced a gradient for keeps none, so the optimizer skips it exactly as it would
/// in a single process (no weight decay on an unused head).
/// </summary>
public sealed class GradientBucketer : IDisposable
{
    public const long DefaultBucketBytes = 25L * 1024 * 1024;

    private readonly ProcessGroup _group;
    private readonly FlatParameters _parameters;
    private readonly Tensor[] _buckets;   // consecutive views of _parameters.Gradients

    public GradientBucketer(ProcessGroup group, FlatParameters parameters, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "must be > 0");
        TensorBuffers.CheckDevice(parameters.Gradients, group.Device, "gradient bucketing");
        _group = group;
        _parameters = parameters;
        long perBucket = Math.Max(1, bucketBytes / parameters.Gradients.ElementSize);
        var buckets = new List<Tensor>();
        for (long offset = 0; offset < parameters.Length; offset += perBucket)
            buckets.Add(parameters.Gradients.narrow(0, offset, Math.Min(perBucket, parameters.Length - offset)).DetachFromDisposeScope());
        _buckets = buckets.ToArray();
    }

    public int BucketCount => _buckets.Length;

    /// <summary>Replaces every parameter's gradient with its average over all ranks (gathering them into the flat buffer first).</summary>
    public void AllReduceAverage(TimeSpan? timeout = null)
    {
        if (_group.Size == 1) return;
        bool[] mine = _parameters.GatherGradients();
        bool[] anywhere = ParametersWithGradientOnAnyRank(mine, timeout);
        var pending = new PendingCollective[_buckets.Length];
        try
        {
            for (int b = 0; b < _buckets.Length; b++) pending[b] = _group.AllReduceAsync([_buckets[b]], ReduceOp.Average);
            foreach (var p in pending) p.Wait(timeout ?? _group.Timeout);
        }
        finally
        {
            foreach (var p in pending) p?.Dispose();
        }
        // Its segment was zeros here and now holds the other ranks' average.
        for (int i = 0; i < mine.Length; i++)
            if (anywhere[i] && !mine[i]) _parameters.AdoptGradient(i);
    }

    /// <summary>One small collective: which parameters got a gradient on at least one rank.</summary>
    private bool[] ParametersWithGradientOnAnyRank(bool[] mine, TimeSpan? timeout)
    {
        using var scope = torch.NewDisposeScope();
        var counts = torch.tensor(mine.Select(m => m ? 1L : 0L).ToArray(), device: _group.Device);
        _group.AllReduce(counts, ReduceOp.Sum, timeout);
        return counts.cpu().data<long>().ToArray().Select(c => c > 0).ToArray();
    }

    public void Dispose()
    {
        foreach (var t in _buckets) t.Dispose();
    }
}
