namespace CommerceMM.Data.Loading;

/// <summary>
/// A never-ending, resumable source of one stream's batches, whatever their type: what a trainer that
/// does not know the model (the worker) holds. <see cref="ShardedLoader{TBatch}"/> is the implementation.
/// </summary>
public interface IBatchStream : IAsyncDisposable
{
    /// <summary>Position after the last batch handed out.</summary>
    LoaderPosition Position { get; }

    LoaderStats Stats { get; }

    /// <summary>The next batch; the caller owns (disposes) it.</summary>
    ValueTask<Batch> NextBatchAsync(CancellationToken cancellationToken = default);
}
