using System.Diagnostics;
using System.Threading.Channels;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Loading;

/// <summary>
/// One rank's reader of one stream: deterministic order (<see cref="EpochOrder"/>), this rank's share
/// (<see cref="RankPlan"/>), and background read + decode + tokenize + collate with bounded prefetch.
/// Epochs roll over by themselves; <see cref="NextAsync"/> never ends.
/// </summary>
/// <remarks>
/// The producer writes one task per batch, in order, into a bounded channel: the channel's capacity is
/// the prefetch depth, and a semaphore bounds how many batches decode at once. Ordering comes from the
/// channel, so parallel decoding never reorders batches.
/// </remarks>
public sealed class ShardedLoader<TBatch> : IBatchStream, IDisposable where TBatch : Batch
{
    private readonly LoaderOptions _options;
    private readonly DatasetManifest _manifest;
    private readonly ShardSet _shards;
    private readonly SentencePieceTokenizer _tokenizer;
    private readonly IBatchFormat<TBatch> _format;
    private readonly Channel<Task<TBatch>> _ready;
    private readonly SemaphoreSlim _decodeSlots;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private readonly LoaderPosition _start;
    private int _disposed;

    internal ShardedLoader(LoaderOptions options, SampleSchema schema,
        Func<DatasetManifest, SentencePieceTokenizer, IBatchFormat<TBatch>> format)
    {
        options.Validate();
        _options = options;
        _manifest = DatasetManifest.Read(options.DatasetDirectory);
        var stream = _manifest.Stream(options.Stream);
        if (stream.Schema != schema)
            throw new DatasetException($"stream '{options.Stream}' holds {stream.Schema} samples; this loader reads {schema} samples");
        // An empty stream has no batch to give, and an epoch of it would end without one: refuse it rather than spin.
        if (stream.Samples == 0) throw new DatasetException($"stream '{options.Stream}' of '{options.DatasetDirectory}' holds no sample");
        _shards = new ShardSet(options.DatasetDirectory, stream, options.VerifyChecksums);
        _start = StartPosition(options, _shards.Count);
        _tokenizer = SentencePieceTokenizer.Load(Path.Combine(options.DatasetDirectory, _manifest.Tokenizer.File));
        try { _format = format(_manifest, _tokenizer); }
        catch { _tokenizer.Dispose(); _shards.Dispose(); throw; }
        _decodeSlots = new SemaphoreSlim(options.Workers);
        _ready = Channel.CreateBounded<Task<TBatch>>(new BoundedChannelOptions(options.Prefetch) { SingleReader = true, SingleWriter = true });
        Position = _start;
        _producer = Task.Run(ProduceAsync);
    }

    /// <summary>Position after the last batch handed out (the start position before the first).</summary>
    public LoaderPosition Position { get; private set; }

    public LoaderStats Stats { get; } = new();

    /// <summary>Samples in one epoch of this stream (all ranks together).</summary>
    public int SamplesPerEpoch => _shards.Count;

    public SentencePieceTokenizer Tokenizer => _tokenizer;

    /// <summary>The next batch of this rank; waits while none is ready (that wait is <see cref="LoaderStats.DataWait"/>).</summary>
    /// <exception cref="ShardCorruptException">A shard failed its checksum; the message names it.</exception>
    public async ValueTask<TBatch> NextAsync(CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        Task<TBatch> next;
        try
        {
            next = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            throw e.InnerException; // the producer failed (e.g. a corrupt shard); surface its error, not the channel's
        }
        TBatch batch = await next.ConfigureAwait(false);
        // Counted on delivery, not on decode: prefetched batches are not yet "seen".
        Stats.Delivered(batch.Count, batch.SkippedReasons, Stopwatch.GetElapsedTime(started));
        Position = batch.Position;
        return batch;
    }

    async ValueTask<Batch> IBatchStream.NextBatchAsync(CancellationToken cancellationToken) => await NextAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        try { await _producer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        // Batches prepared but never handed out still own tensors.
        while (_ready.Reader.TryRead(out var pending))
        {
            try { (await pending.ConfigureAwait(false)).Dispose(); } catch (Exception) { /* already reported or cancelled */ }
        }
        _shards.Dispose();
        _tokenizer.Dispose();
        _decodeSlots.Dispose();
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static LoaderPosition StartPosition(LoaderOptions o, int samples)
    {
        if (o.Resume is not { } r)
            return new LoaderPosition { Stream = o.Stream, Seed = o.Seed, CanonicalPartitions = o.CanonicalPartitions, Samples = samples, Epoch = 0, Cursor = 0, Offset = 0, WorldSize = o.WorldSize };
        // Each mismatch would silently change the order and so replay or skip samples: refuse by name.
        if (r.Stream != o.Stream) throw new ArgumentException($"resume position is for stream '{r.Stream}', not '{o.Stream}'");
        if (r.Seed != o.Seed) throw new ArgumentException($"resume position has seed {r.Seed}, options have {o.Seed}");
        if (r.CanonicalPartitions != o.CanonicalPartitions)
            throw new ArgumentException($"resume position has {r.CanonicalPartitions} canonical partitions, options have {o.CanonicalPartitions}");
        if (r.Samples != samples) throw new ArgumentException($"resume position is for {r.Samples} samples per epoch; the stream now holds {samples}");
        return r.Rebase(o.WorldSize);
    }

    private async Task ProduceAsync()
    {
        var token = _stop.Token;
        Exception? failure = null;
        try
        {
            long epoch = _start.Epoch, cursor = _start.Cursor;
            while (!token.IsCancellationRequested)
            {
                int[] order = EpochOrder.Build(_options.Seed, epoch, _options.CanonicalPartitions, _shards.ShardSamples);
                var plan = new RankPlan(order.Length, cursor, _options.WorldSize, _options.Rank, _options.BatchSize);
                long steps = plan.Steps;
                // A remote data set's shards start arriving in the order this rank reads them (a no-op for a local one).
                _shards.Prefetch(Enumerable.Range(0, checked((int)steps)).SelectMany(step => plan.Batch(step)).Select(p => order[p]));
                for (long step = 0; step < steps; step++)
                {
                    var after = step == steps - 1
                        ? _start with { Epoch = epoch + 1, Cursor = 0, Offset = 0, WorldSize = _options.WorldSize }
                        : _start with { Epoch = epoch, Cursor = cursor, Offset = (step + 1) * _options.BatchSize, WorldSize = _options.WorldSize };
                    long[] positions = plan.Batch(step);
                    await _decodeSlots.WaitAsync(token).ConfigureAwait(false);
                    long e = epoch, s = step;
                    var work = Task.Run(() =>
                    {
                        try { return Build(order, positions, e, s, after); }
                        finally { _decodeSlots.Release(); }
                    });
                    try
                    {
                        await _ready.Writer.WriteAsync(work, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopping: nobody will take this batch, so free its tensors when it is done.
                        _ = work.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);
                        throw;
                    }
                }
                epoch++;
                cursor = 0;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested) { }
        catch (Exception e) { failure = e; }
        _ready.Writer.TryComplete(failure);
    }

    private TBatch Build(int[] order, long[] positions, long epoch, long step, LoaderPosition after)
    {
        var samples = new List<ShardSample>(positions.Length);
        var skipped = new List<SkipReason>();
        foreach (long p in positions)
        {
            try { samples.Add(_shards.Read(order[p])); }
            catch (BadRecordException) { skipped.Add(SkipReason.UnreadableRecord); }
        }
        var batch = _format.Build(samples, skipped, epoch, step, after);
        batch.SkippedReasons = skipped;
        return batch;
    }
}

/// <summary>Opens loaders for CommerceMM's two passes and SCALE's products.</summary>
public static class DataLoader
{
    /// <summary>Pass-1 batches from a pair stream ("pairs" or "eval_pairs").</summary>
    public static ShardedLoader<PairBatch> Pairs(LoaderOptions options) =>
        new(options, SampleSchema.Pair, (manifest, tokenizer) => new CatalogBatchFormat<PairBatch>(SampleSchema.Pair, manifest, tokenizer, options));

    /// <summary>Pass-2 batches from an omni stream ("omni" or "eval_omni").</summary>
    public static ShardedLoader<OmniBatch> Omni(LoaderOptions options) =>
        new(options, SampleSchema.Omni, (manifest, tokenizer) => new CatalogBatchFormat<OmniBatch>(SampleSchema.Omni, manifest, tokenizer, options));

    /// <summary>SCALE batches from a product stream ("products" or "eval_products").</summary>
    public static ShardedLoader<ScaleBatch> Products(LoaderOptions options) =>
        new(options, SampleSchema.Product, (manifest, tokenizer) => new ProductBatchFormat(manifest, tokenizer, options));
}
