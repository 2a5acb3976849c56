using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>
/// Averages gradients across ranks in buckets of at most about <see cref="DefaultBucketBytes"/>, as
/// DistributedDataParallel does: one collective per bucket instead of one per parameter. The buckets are
/// views of the flat gradient buffer (<see cref="FlatParameters"/>), so the all-reduce reads and writes the
/// gradients in place: nothing is packed or unpacked.
/// </summary>
/// <remarks>
/// <para><b>Overlap with backward.</b> Parameters belong to units (encoder layers) that
/// <see cref="GradientReadiness"/> reports as final during the step's last backward pass. A bucket holds
/// either parameters of units only or parameters of no unit (embeddings, heads), never both, and buckets
/// go out in one fixed order on every rank: unit buckets from the last to the first (backward meets the
/// layers in about that order), then the others once backward has returned. Each goes as soon as it and
/// every bucket before it in that order are ready, so the all-reduce of the upper layers runs while
/// backward works on the lower ones. The buckets travel on a group of their own: when a layer finishes
/// differs between ranks, so they must not share a queue with the model's collectives. This is Gloo's: NCCL runs
/// every collective on the null stream in call order, where two communicators called in different orders by two
/// ranks would wait on each other, so on NCCL the buckets go after backward.</para>
/// <para>Parameters without a gradient on this rank contribute zeros, so all ranks send equal buckets; a
/// parameter no rank produced a gradient for keeps none, so the optimizer skips it exactly as it would
/// in a single process (no weight decay on an unused head).</para>
/// </remarks>
public sealed class GradientBucketer : IDisposable
{
    public const long DefaultBucketBytes = 25L * 1024 * 1024;

    private sealed record Bucket(Tensor Gradients, int FirstParameter, int EndParameter, int[] Units);

    private readonly ProcessGroup _group;          // the vote on which parameters have gradients (and on skipping the step)
    private readonly ProcessGroup _bucketGroup;    // the buckets, in launch order (a group of their own when they overlap)
    private readonly FlatParameters _parameters;
    private readonly GradientReadiness? _readiness;   // null when the buckets go after backward
    private readonly Bucket[] _launchOrder;
    private readonly PendingCollective?[] _pending;
    private readonly bool[] _hasGradient;
    private int _launched;
    private Exception? _launchFailure;

    /// <summary>Without units: every bucket goes once backward has returned.</summary>
    public GradientBucketer(ProcessGroup group, FlatParameters parameters, long bucketBytes = DefaultBucketBytes)
        : this(group, parameters, Enumerable.Repeat(-1, parameters.Count).ToArray(), [], null, bucketBytes) { }

    /// <param name="group">the ranks; when the buckets overlap backward (on Gloo), a second group of them carries the buckets (made here: collective)</param>
    /// <param name="unitOfParameter">each parameter's unit in <paramref name="readiness"/>, or -1 for none, in the flat buffers' order</param>
    /// <param name="stackOfUnit">the stack each unit is in (an encoder's layers): a bucket holds units of one stack, so a finished stack need not wait for the next</param>
    /// <param name="readiness">reports units whose gradients are final; null: every bucket goes once backward has returned</param>
    public GradientBucketer(ProcessGroup group, FlatParameters parameters, IReadOnlyList<int> unitOfParameter, IReadOnlyList<int> stackOfUnit, GradientReadiness? readiness, long bucketBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(unitOfParameter);
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "must be > 0");
        if (unitOfParameter.Count != parameters.Count) throw new ArgumentException($"{unitOfParameter.Count} units given for {parameters.Count} parameters", nameof(unitOfParameter));
        if (unitOfParameter.Any(u => u < -1 || u >= (readiness?.Units ?? 0)))
            throw new ArgumentException($"units must be -1 or below {readiness?.Units ?? 0}", nameof(unitOfParameter));
        if (stackOfUnit.Count != (readiness?.Units ?? 0)) throw new ArgumentException($"{stackOfUnit.Count} stacks given for {readiness?.Units ?? 0} units", nameof(stackOfUnit));
        TensorBuffers.CheckDevice(parameters.Gradients, group.Device, "gradient bucketing");
        _group = group;
        _parameters = parameters;
        // NCCL queues every collective on the null stream in the order it is called: two communicators' collectives,
        // called in different orders by two ranks, would each wait for the other. So on NCCL the buckets go after backward.
        _readiness = group.Backend == CollectiveBackend.Gloo ? readiness : null;
        var buckets = Split(parameters, unitOfParameter, stackOfUnit, bucketBytes);
        // Backward meets the units in about descending order, and a bucket is ready once its lowest unit is.
        _launchOrder = buckets.Where(b => b.Units.Length > 0).OrderByDescending(b => b.Units.Min()).ThenByDescending(b => b.FirstParameter)
            .Concat(buckets.Where(b => b.Units.Length == 0).Reverse()).ToArray();
        _pending = new PendingCollective?[_launchOrder.Length];
        _hasGradient = new bool[parameters.Count];
        _bucketGroup = _readiness is null ? group : group.NewGroup();
        if (_readiness is not null) _readiness.UnitReady = _ => LaunchReadyBuckets();
    }

    public int BucketCount => _launchOrder.Length;

    /// <summary>Buckets of the last step that went out before backward returned.</summary>
    public int LaunchedDuringBackward { get; private set; }

    /// <summary>Call before the step's last forward pass: the buckets go out during its backward as their layers finish.</summary>
    public void StartOverlap()
    {
        Reset();
        _readiness?.Arm();
    }

    /// <summary>
    /// After the last backward: sends the buckets still unsent, waits for all, and leaves every parameter's
    /// gradient averaged over all ranks. Collective: every rank calls it every step.
    /// </summary>
    /// <param name="skipVote">this rank's vote to skip the step (its loss is not finite)</param>
    /// <returns>whether any rank voted to skip. The vote rides on the collective that finds which parameters have a
    /// gradient anywhere, which runs beside the buckets, so it costs no round trip of its own.</returns>
    public bool AllReduceAverage(bool skipVote = false, TimeSpan? timeout = null)
    {
        _readiness?.Disarm();
        LaunchedDuringBackward = _launched;
        try
        {
            if (_launchFailure is { } failure) throw new CollectiveException(CollectiveError.GroupBroken, $"a gradient bucket could not be sent during backward: {failure.Message}", failure);
            while (_launched < _launchOrder.Length) Launch();
            using var votes = torch.tensor(_hasGradient.Select(has => has ? 1L : 0L).Append(skipVote ? 1L : 0L).ToArray(), device: _group.Device);
            using (var voting = _group.AllReduceAsync([votes], ReduceOp.Sum))
            {
                foreach (var pending in _pending) pending!.Wait(timeout ?? _bucketGroup.Timeout);
                voting.Wait(timeout ?? _group.Timeout);
            }
            long[] counts;
            using (var host = votes.cpu()) counts = host.data<long>().ToArray();
            // Its segment was zeros here and now holds the other ranks' average.
            for (int i = 0; i < _hasGradient.Length; i++)
                if (counts[i] > 0 && !_hasGradient[i]) _parameters.AdoptGradient(i);
            return counts[^1] > 0;
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>Runs inside backward, where nothing may throw: a failure is kept for <see cref="AllReduceAverage"/>.</summary>
    private void LaunchReadyBuckets()
    {
        if (_launchFailure is not null) return;
        try
        {
            while (_launched < _launchOrder.Length && IsReady(_launchOrder[_launched])) Launch();
        }
        catch (Exception e)
        {
            _launchFailure = e;
        }
    }

    private bool IsReady(Bucket bucket) => bucket.Units.Length > 0 && !bucket.Units.Any(_readiness!.IsPending);

    private void Launch()
    {
        var bucket = _launchOrder[_launched];
        for (int i = bucket.FirstParameter; i < bucket.EndParameter; i++) _hasGradient[i] = _parameters.GatherGradient(i);
        _pending[_launched] = _bucketGroup.AllReduceAsync([bucket.Gradients], ReduceOp.Average);
        _launched++;
    }

    private void Reset()
    {
        _readiness?.Disarm();
        for (int i = 0; i < _pending.Length; i++)
        {
            _pending[i]?.Dispose();
            _pending[i] = null;
        }
        _launched = 0;
        _launchFailure = null;
    }

    /// <summary>Consecutive parameters; a new bucket where the size limit is reached, where unit parameters meet others, or where a stack ends.</summary>
    private static List<Bucket> Split(FlatParameters parameters, IReadOnlyList<int> unitOfParameter, IReadOnlyList<int> stackOfUnit, long bucketBytes)
    {
        int Stack(int p) => unitOfParameter[p] >= 0 ? stackOfUnit[unitOfParameter[p]] : -1;
        long perBucket = Math.Max(1, bucketBytes / parameters.Gradients.ElementSize);
        var buckets = new List<Bucket>();
        int first = 0;
        for (int i = 1; i <= parameters.Count; i++)
        {
            bool end = i == parameters.Count
                       || Stack(i) != Stack(first)
                       || parameters.Offsets[i] - parameters.Offsets[first] + parameters.Parameters[i].numel() > perBucket;
            if (!end) continue;
            long length = (i == parameters.Count ? parameters.Length : parameters.Offsets[i]) - parameters.Offsets[first];
            var units = Enumerable.Range(first, i - first).Select(p => unitOfParameter[p]).Where(u => u >= 0).Distinct().ToArray();
            buckets.Add(new Bucket(parameters.Gradients.narrow(0, parameters.Offsets[first], length).DetachFromDisposeScope(), first, i, units));
            first = i;
        }
        return buckets;
    }

    public void Dispose()
    {
        Reset();
        if (_readiness is not null) _readiness.UnitReady = null;
        foreach (var bucket in _launchOrder) bucket.Gradients.Dispose();
        if (_bucketGroup != _group) _bucketGroup.Dispose();
    }
}
