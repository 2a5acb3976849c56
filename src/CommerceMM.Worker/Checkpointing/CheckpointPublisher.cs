using System.Diagnostics;
using System.Text.Json;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Observability.Worker;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>
/// Saves this rank's part of a checkpoint in the background and votes for it: snapshot (host memory)
/// → upload (training goes on) → vote with the uploaded files. The coordinator commits once every
/// rank has voted. A failed save is logged and loses nothing: the previous checkpoint stays latest. It is also voted as
/// a failure, so the order fails at once and the next one goes out on schedule.
/// </summary>
internal sealed class CheckpointPublisher : IAsyncDisposable
{
    private readonly AsyncCheckpointSaver _saver;
    private readonly CoordinatorClient _client;
    private readonly TrainingMetrics _metrics;
    private readonly ILogger _log;
    private readonly List<Task> _inFlight = [];

    public CheckpointPublisher(IBlobStore store, string job, int rank, int worldSize, CoordinatorClient client, TrainingMetrics metrics, ILogger log)
    {
        _saver = new AsyncCheckpointSaver(store, job, rank, worldSize);
        (_client, _metrics, _log) = (client, metrics, log);
    }

    public async Task PublishAsync(CheckpointSnapshot snapshot, long generation, int rank, string workerId, string configHash, JsonElement dataPosition,
                                   CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        Task<RankSaveResult> upload = await _saver.EnqueueAsync(snapshot, cancellationToken).ConfigureAwait(false);
        _inFlight.RemoveAll(t => t.IsCompleted);
        _inFlight.Add(VoteWhenUploadedAsync());

        async Task VoteWhenUploadedAsync()
        {
            RankSaveResult saved;
            try
            {
                saved = await upload.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Expected failures (a full disk, a refused upload) are their message; anything else keeps its stack.
                if (e is IOException or BlobStoreException)
                    _log.LogError("checkpoint step {Step} was not saved ({Problem}); the previous checkpoint stays the one to restore", snapshot.Step, e.Message);
                else
                    _log.LogError(e, "checkpoint step {Step} was not saved; the previous checkpoint stays the one to restore", snapshot.Step);
                // Said at once, the order fails now rather than holding every later one until the checkpoint timeout.
                await VoteAsync(new CheckpointVote(workerId, generation, rank, snapshot.Step, [], configHash, CodeVersion.Current, Failure: Truncate(e.Message)), "could not save").ConfigureAwait(false);
                return;
            }
            _metrics.RecordCheckpointSave(started.Elapsed, saved.Bytes);
            var files = saved.Files.Select(f => new CheckpointFile(f.Path, f.Size, f.Sha256)).ToList();
            await VoteAsync(new CheckpointVote(workerId, generation, rank, snapshot.Step, files, configHash, CodeVersion.Current, dataPosition),
                $"saved {saved.Bytes} bytes in {started.Elapsed.TotalSeconds:F2}s").ConfigureAwait(false);
        }

        async Task VoteAsync(CheckpointVote vote, string outcome)
        {
            try
            {
                var reply = await _client.VoteCheckpointAsync(vote, cancellationToken).ConfigureAwait(false);
                if (reply.Status == CheckpointVoteStatus.Committed) _metrics.RecordCheckpointCommitted(snapshot.Step);
                _log.LogInformation("checkpoint step {Step}: rank {Rank} {Outcome}; vote {Status}: {Message}", snapshot.Step, rank, outcome, reply.Status, reply.Message);
            }
            catch (CoordinatorException e) when (e.Status == System.Net.HttpStatusCode.Conflict)
            {
                // The order is gone: another rank could not save, it timed out, or the generation moved on.
                _log.LogWarning("checkpoint step {Step}: rank {Rank} {Outcome}, but the order was dropped before its vote ({Problem}); the previous checkpoint stays the one to restore",
                    snapshot.Step, rank, outcome, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogError(e, "checkpoint step {Step}: the vote did not reach the coordinator; the previous checkpoint stays the one to restore", snapshot.Step);
            }
        }
    }

    private static string Truncate(string reason) =>
        reason.Length <= CheckpointVote.MaxFailureLength ? reason : reason[..(CheckpointVote.MaxFailureLength - 3)] + "...";

    /// <summary>Waits for every save and vote in flight (before exiting or rejoining), up to the grace period.</summary>
    public async Task DrainAsync(TimeSpan grace)
    {
        var all = Task.WhenAll(_inFlight);
        if (await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false) != all)
            _log.LogWarning("checkpoint uploads still running after {Seconds}s grace; leaving them", grace.TotalSeconds);
    }

    public async ValueTask DisposeAsync() => await _saver.DisposeAsync().ConfigureAwait(false);
}
