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
/// rank has voted. A failed save is logged and loses nothing: the previous checkpoint stays latest.
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

    /// <summary>Steps whose save and vote this rank has finished.</summary>
    public long LastVotedStep { get; private set; } = -1;

    public async Task PublishAsync(CheckpointSnapshot snapshot, long generation, int rank, string workerId, string configHash, JsonElement dataPosition,
                                   CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        Task<RankSaveResult> upload = await _saver.EnqueueAsync(snapshot, cancellationToken).ConfigureAwait(false);
        _inFlight.RemoveAll(t => t.IsCompleted);
        _inFlight.Add(VoteWhenUploadedAsync());

        async Task VoteWhenUploadedAsync()
        {
            try
            {
                RankSaveResult saved = await upload.ConfigureAwait(false);
                _metrics.RecordCheckpointSave(started.Elapsed, saved.Bytes);
                var files = saved.Files.Select(f => new CheckpointFile(f.Path, f.Size, f.Sha256)).ToList();
                var reply = await _client.VoteCheckpointAsync(
                    new CheckpointVote(workerId, generation, rank, snapshot.Step, files, configHash, CodeVersion.Current, dataPosition), cancellationToken).ConfigureAwait(false);
                LastVotedStep = snapshot.Step;
                if (reply.Status == CheckpointVoteStatus.Committed) _metrics.RecordCheckpointCommitted(snapshot.Step);
                _log.LogInformation("checkpoint step {Step}: rank {Rank} saved {Bytes} bytes in {Seconds:F2}s; vote {Status}: {Message}",
                    snapshot.Step, rank, saved.Bytes, started.Elapsed.TotalSeconds, reply.Status, reply.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogError(e, "checkpoint step {Step} was not saved; the previous checkpoint stays the one to restore", snapshot.Step);
            }
        }
    }

    /// <summary>Waits for every save and vote in flight (before exiting or rejoining), up to the grace period.</summary>
    public async Task DrainAsync(TimeSpan grace)
    {
        var all = Task.WhenAll(_inFlight);
        if (await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false) != all)
            _log.LogWarning("checkpoint uploads still running after {Seconds}s grace; leaving them", grace.TotalSeconds);
    }

    public async ValueTask DisposeAsync() => await _saver.DisposeAsync().ConfigureAwait(false);
}
