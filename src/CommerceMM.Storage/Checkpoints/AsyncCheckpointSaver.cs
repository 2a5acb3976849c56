using System.Threading.Channels;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// Uploads one rank's checkpoint files in the background: <see cref="EnqueueAsync"/> returns as soon as the snapshot
/// is queued, so the training loop stalls only for the host-memory copy it already made (and, when
/// <see cref="AsyncCheckpointSaverOptions.MaxQueuedSaves"/> saves are already waiting, until one finishes: back-pressure
/// instead of unbounded memory). Saves are uploaded one at a time, in order; files of one save in parallel.
/// </summary>
/// <remarks>The saver uploads; it does not commit. Each rank's <see cref="RankSaveResult"/> goes to whoever commits (the coordinator, or rank 0).</remarks>
public sealed class AsyncCheckpointSaver : IAsyncDisposable
{
    private readonly IBlobStore _store;
    private readonly string _job;
    private readonly int _rank;
    private readonly int _worldSize;
    private readonly AsyncCheckpointSaverOptions _options;

    /// <summary>Queued saves; bounded, so a writer waits when the uploads fall behind.</summary>
    private readonly Channel<PendingSave> _queue;

    /// <summary>The single consumer of <see cref="_queue"/>.</summary>
    private readonly Task _worker;

    public AsyncCheckpointSaver(IBlobStore store, string job, int rank, int worldSize, AsyncCheckpointSaverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        CheckpointLayout.ValidateJob(job);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        _options = options ?? new AsyncCheckpointSaverOptions();
        _options.Validate();
        _store = store;
        _job = job;
        _rank = rank;
        _worldSize = worldSize;
        _queue = Channel.CreateBounded<PendingSave>(new BoundedChannelOptions(_options.MaxQueuedSaves) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _worker = Task.Run(RunAsync);
    }

    /// <summary>The folder name of a rank's own files inside a step folder.</summary>
    public static string RankFolder(int rank) => $"rank-{rank:D5}";

    /// <summary>Queues <paramref name="snapshot"/>; the returned task completes when this rank's files are uploaded (or faults with the cause).</summary>
    public async ValueTask<Task<RankSaveResult>> EnqueueAsync(CheckpointSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        // Check paths now, on the caller's thread, so a bad name fails the call that made it.
        foreach (SnapshotFile file in snapshot.Replicated.Concat(snapshot.RankLocal))
        {
            CheckpointLayout.ValidateFilePath(file.Path);
        }

        var pending = new PendingSave(snapshot);
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        return pending.Completion.Task;
    }

    /// <summary>Stops accepting saves and waits for the queued ones to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        await foreach (PendingSave pending in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            RankSaveResult? result = null;
            Exception? failure = null;
            try
            {
                pending.Snapshot.Fill?.Invoke();
                result = await UploadAsync(pending.Snapshot).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // One failed save must not stop later ones: the next checkpoint may well succeed.
                failure = e;
            }

            // Done with the bytes before anyone hears of the outcome, so a caller may reuse them at once.
            pending.Snapshot.Release?.Invoke();
            if (failure is null)
            {
                pending.Completion.SetResult(result!);
            }
            else
            {
                pending.Completion.SetException(failure);
            }
        }
    }

    private async Task<RankSaveResult> UploadAsync(CheckpointSnapshot snapshot)
    {
        long started = _options.TimeProvider.GetTimestamp();
        await CheckpointFileWriter.EnsureNotCommittedAsync(_store, _job, snapshot.Step, CancellationToken.None).ConfigureAwait(false);
        int[] owners = CheckpointShardPlan.Assign(snapshot.Replicated.Select(f => (f.Path, (long)f.Content.Length)).ToList(), _worldSize);
        var mine = new List<SnapshotFile>();
        for (int i = 0; i < owners.Length; i++)
        {
            if (owners[i] == _rank)
            {
                mine.Add(snapshot.Replicated[i]);
            }
        }

        mine.AddRange(snapshot.RankLocal.Select(f => f with { Path = $"{RankFolder(_rank)}/{f.Path}" }));
        var entries = new CheckpointFileEntry[mine.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, mine.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.UploadParallelism },
            async (i, ct) => entries[i] = await CheckpointFileWriter.WriteUncheckedAsync(_store, _job, snapshot.Step, mine[i].Path, mine[i].Content, _rank, ct).ConfigureAwait(false))
            .ConfigureAwait(false);
        return new RankSaveResult(snapshot.Step, _rank, entries, entries.Sum(e => e.Size), _options.TimeProvider.GetElapsedTime(started));
    }

    private sealed class PendingSave(CheckpointSnapshot snapshot)
    {
        public CheckpointSnapshot Snapshot { get; } = snapshot;

        public TaskCompletionSource<RankSaveResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Settings of <see cref="AsyncCheckpointSaver"/>.</summary>
public sealed class AsyncCheckpointSaverOptions
{
    /// <summary>Default <see cref="MaxQueuedSaves"/>: one waiting behind the one uploading bounds memory to two snapshots.</summary>
    public const int DefaultMaxQueuedSaves = 1;

    /// <summary>Default <see cref="UploadParallelism"/>.</summary>
    public const int DefaultUploadParallelism = 4;

    /// <value>Default <see cref="DefaultMaxQueuedSaves"/>.</value>
    public int MaxQueuedSaves { get; set; } = DefaultMaxQueuedSaves;

    /// <value>Default <see cref="DefaultUploadParallelism"/>.</value>
    /// <remarks>Files of one save uploaded at once (each may itself upload blocks in parallel).</remarks>
    public int UploadParallelism { get; set; } = DefaultUploadParallelism;

    /// <value>Default <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public void Validate()
    {
        if (MaxQueuedSaves is < 1 or > 16)
        {
            throw new ArgumentException($"{nameof(AsyncCheckpointSaverOptions)}.{nameof(MaxQueuedSaves)} must be between 1 and 16.");
        }

        if (UploadParallelism is < 1 or > 64)
        {
            throw new ArgumentException($"{nameof(AsyncCheckpointSaverOptions)}.{nameof(UploadParallelism)} must be between 1 and 64.");
        }
    }
}
