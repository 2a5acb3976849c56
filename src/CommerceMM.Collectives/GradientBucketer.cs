using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

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
    private readonly Tensor[] _flat;            // one reusable float32 buffer per bucket, on the group's device
    private readonly IReadOnlyList<Tensor> _parameters;

    public GradientBucketer(ProcessGroup group, IReadOnlyList<Tensor> parameters, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "must be > 0");
        _group = group;
        _parameters = parameters;
        var buckets = new List<Tensor[]>();
        var current = new List<Tensor>();
        long bytes = 0;
        // Reverse order: the last layers' gradients are ready first in backward.
        for (int i = parameters.Count - 1; i >= 0; i--)
        {
            var p = parameters[i];
            if (p.dtype != ScalarType.Float32) throw new ArgumentException($"only float32 parameters can be bucketed; parameter {i} is {p.dtype}", nameof(parameters));
            TensorBuffers.CheckDevice(p, group.Device, $"gradient bucketing of parameter {i}");
            long size = p.numel() * p.ElementSize;
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
        _flat = _buckets.Select(b => torch.zeros(b.Sum(p => p.numel()), ScalarType.Float32, device: group.Device).DetachFromDisposeScope()).ToArray();
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
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long offset = 0;
        foreach (var p in _buckets[bucket])
        {
            long n = p.numel();
            var slot = _flat[bucket].narrow(0, offset, n);
            var grad = p.grad;
            if (grad is null) slot.zero_();
            else slot.copy_(grad.reshape(n));
            offset += n;
        }
    }

    /// <summary>One small collective: which parameters got a gradient on at least one rank.</summary>
    private HashSet<Tensor> ParametersWithGradientOnAnyRank(TimeSpan? timeout)
    {
        using var scope = torch.NewDisposeScope();
        var flags = new long[_parameters.Count];
        for (int i = 0; i < flags.Length; i++) flags[i] = _parameters[i].grad is null ? 0 : 1;
        var counts = torch.tensor(flags, device: _group.Device);
        _group.AllReduce(counts, ReduceOp.Sum, timeout);
        long[] summed = counts.cpu().data<long>().ToArray();
        var used = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < summed.Length; i++)
            if (summed[i] > 0) used.Add(_parameters[i]);
        return used;
    }

    private void Unpack(int bucket, HashSet<Tensor> used)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long offset = 0;
        foreach (var p in _buckets[bucket])
        {
            long n = p.numel();
            offset += n;
            if (!used.Contains(p)) continue;
            var averaged = _flat[bucket].narrow(0, offset - n, n).view(p.shape);
            var grad = p.grad;
            if (grad is null) p.grad = averaged.clone();
            else grad.copy_(averaged);
        }
    }

    public void Dispose()
    {
        foreach (var t in _flat) t.Dispose();
    }
}
