namespace CommerceMM.Torch.Distributed;

/// <summary>
/// Averages gradients across ranks in flat buckets of about <see cref="DefaultBucketBytes"/>, as
/// DistributedDataParallel does: one collective per bucket instead of one per parameter, with every
/// bucket in flight at once so communication of one overlaps packing and unpacking of the others.
/// Parameters without a gradient on this rank contribute zeros, so all ranks send equal buckets; a
/// parameter no rank produced a gradient for keeps none, so the optimizer skips it exactly as it would
/// in a single process (no weight decay on an unused head).
/// </summary>
public sealed class GradientBucketer : IDisposable
{
    public const long DefaultBucketBytes = 25L * 1024 * 1024;

    private readonly ProcessGroup _group;
    private readonly Tensor[][] _buckets;       // parameters per bucket, in reverse registration order (backward order)
    private readonly Tensor[] _flat;            // one reusable float32 buffer per bucket
    private readonly IReadOnlyList<Tensor> _parameters;

    public GradientBucketer(ProcessGroup group, IReadOnlyList<Tensor> parameters, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "must be > 0");
        _group = group;
        _parameters = parameters;
        var buckets = new List<Tensor[]>();
        var current = new List<Tensor>();
        long bytes = 0;
        // Reverse order: the last layers' gradients are ready first in backward.
        foreach (var p in parameters.Reverse())
        {
            if (p.DType != DType.Float32) throw new ArgumentException($"only float32 parameters can be bucketed; got {p.DType}");
            long size = p.ByteSize;
            if (current.Count > 0 && bytes + size > bucketBytes)
            {
                buckets.Add(current.ToArray());
                current.Clear();
                bytes = 0;
            }
            current.Add(p);
            bytes += size;
        }
        if (current.Count > 0) buckets.Add(current.ToArray());
        _buckets = buckets.ToArray();
        _flat = _buckets.Select(b => DisposeScope.Detach(Torch.Zeros([b.Sum(p => p.NumEl)]))).ToArray();
    }

    public int BucketCount => _buckets.Length;

    /// <summary>Replaces every parameter's gradient with its average over all ranks.</summary>
    public void AllReduceAverage(TimeSpan? timeout = null)
    {
        if (_group.Size == 1) return;
        var used = ParametersWithGradientOnAnyRank(timeout);
        var pending = new PendingCollective[_buckets.Length];
        try
        {
            for (int b = 0; b < _buckets.Length; b++)
            {
                Pack(b);
                pending[b] = _group.AllReduceAsync([_flat[b]], ReduceOp.Average);
            }
            for (int b = 0; b < _buckets.Length; b++)
            {
                pending[b].Wait(timeout ?? _group.Timeout);
                Unpack(b, used);
            }
        }
        finally
        {
            foreach (var p in pending) p?.Dispose();
        }
    }

    private void Pack(int bucket)
    {
        using var scope = DisposeScope.Open();
        using var noGrad = Torch.NoGrad();
        long offset = 0;
        foreach (var p in _buckets[bucket])
        {
            long n = p.NumEl;
            var slot = _flat[bucket].Slice(0, offset, offset + n);
            var grad = p.Grad;
            if (grad is null) slot.Zero();
            else slot.CopyFrom(grad.Reshape(n));
            offset += n;
        }
    }

    /// <summary>One small collective: which parameters got a gradient on at least one rank.</summary>
    private HashSet<Tensor> ParametersWithGradientOnAnyRank(TimeSpan? timeout)
    {
        var flags = new long[_parameters.Count];
        for (int i = 0; i < flags.Length; i++)
        {
            using var grad = _parameters[i].Grad;
            flags[i] = grad is null ? 0 : 1;
        }
        using var counts = Torch.FromArray(flags);
        _group.AllReduce(counts, ReduceOp.Sum, timeout);
        long[] summed = counts.ToArray<long>();
        var used = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < summed.Length; i++)
            if (summed[i] > 0) used.Add(_parameters[i]);
        return used;
    }

    private void Unpack(int bucket, HashSet<Tensor> used)
    {
        using var scope = DisposeScope.Open();
        using var noGrad = Torch.NoGrad();
        long offset = 0;
        foreach (var p in _buckets[bucket])
        {
            long n = p.NumEl;
            offset += n;
            if (!used.Contains(p)) continue;
            var averaged = _flat[bucket].Slice(0, offset - n, offset).View(p.Shape);
            var grad = p.Grad;
            if (grad is null) p.Grad = averaged.Clone();
            else grad.CopyFrom(averaged);
        }
    }

    public void Dispose()
    {
        foreach (var t in _flat) t.Dispose();
    }
}
