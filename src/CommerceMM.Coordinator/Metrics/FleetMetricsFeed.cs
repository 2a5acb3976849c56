using System.Globalization;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Observability.Coordinator;
using CommerceMM.Observability.Stragglers;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Metrics;

/// <summary>
/// Feeds <see cref="FleetMetrics"/> from the job's grains: each accepted heartbeat as it arrives (heartbeat
/// age, per-rank compute time for the straggler signal), and the slower-moving figures (workers by state, generation,
/// restarts, last commit) from entity snapshots on a timer, so a scrape never waits behind an entity's turn.
/// </summary>
/// <remarks>Thread-safe: heartbeats of different ranks are handled concurrently.</remarks>
internal sealed partial class FleetMetricsFeed(FleetMetrics fleet, ILogger<FleetMetricsFeed> logger)
{
    private readonly Lock _gate = new();
    /// <summary>Per rank, the last step whose time was observed: a rank that heartbeats without stepping is not counted twice.</summary>
    private readonly Dictionary<int, long> _observedStep = [];
    private long _generation;
    private int? _restartsSeen;
    private long? _committedStep;
    /// <summary>Members of the last assigned generation, and of those, who did not come back after the last bump.</summary>
    private (long Generation, HashSet<string> Ids) _assigned = (0, []);
    private HashSet<string> _lost = [];

    public FleetMetrics Fleet => fleet;

    /// <summary>A heartbeat the membership accepted in <paramref name="generation"/> (verdict Continue).</summary>
    public void OnHeartbeat(string job, HeartbeatRequest heartbeat, long generation)
    {
        lock (_gate)
        {
            // A reply computed before a bump can be handled after the refresh saw the bump: it must not move the generation back.
            if (!AdvanceGeneration(generation))
            {
                return;
            }

            fleet.RecordHeartbeat(heartbeat.Rank);
            if (heartbeat.StepSeconds > 0 && (!_observedStep.TryGetValue(heartbeat.Rank, out long last) || heartbeat.Step > last))
            {
                _observedStep[heartbeat.Rank] = heartbeat.Step;
                // Compute time, not wall time: every rank's step ends in the same all-reduce, so only what it did before
                // waiting tells the slow rank from the ones waiting for it (StragglerDetector).
                double compute = heartbeat.StepSeconds - heartbeat.DataWaitSeconds - heartbeat.AllReduceSeconds;
                fleet.ObserveStepTime(heartbeat.Rank, TimeSpan.FromSeconds(Math.Max(0, compute)));
            }
        }

        if (heartbeat.Losses is { Count: > 0 } losses && logger.IsEnabled(LogLevel.Debug))
        {
            LogReported(logger, job, heartbeat.Rank, heartbeat.Step, generation, FormatLosses(losses));
        }
    }

    /// <summary>Reads the job's grains and updates the snapshot-derived figures.</summary>
    public async Task RefreshAsync(JobGrains grains, CancellationToken cancellationToken)
    {
        // Membership first, as status does: its sweep may bump the generation.
        MembershipSnapshot membership = await grains.Membership.GetAsync(cancellationToken).ConfigureAwait(false);
        JobSnapshot job = await grains.Job.GetAsync(cancellationToken).ConfigureAwait(false);
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);
        Apply(membership, job, checkpoints);
    }

    /// <summary>Sets every snapshot-derived figure; separate from <see cref="RefreshAsync"/> so tests can hand in snapshots.</summary>
    public void Apply(MembershipSnapshot membership, JobSnapshot job, CheckpointStatusView checkpoints)
    {
        lock (_gate)
        {
            AdvanceGeneration(membership.Generation);
            fleet.SetJobState(job.State.ToString().ToLowerInvariant());
            fleet.SetExpectedWorkers(job.Spec.Workers);
            foreach ((string state, int count) in WorkerStateCounts.Of(membership, job.HasEnded, CountLost(membership)))
            {
                fleet.SetWorkers(state, count);
            }

            // The counter counts bumps this process saw: the job's persisted total becomes the baseline at start-up, so a
            // coordinator restart reads to Prometheus as a counter reset, not as a burst of restarts.
            _restartsSeen ??= job.Restarts;
            for (; _restartsSeen < job.Restarts; _restartsSeen++)
            {
                fleet.RecordRestart();
            }

            if (checkpoints.LastCommitted is { } committed && committed.Step != _committedStep)
            {
                fleet.RecordCheckpointCommitted(committed.Step, committed.CommittedAt);
                _committedStep = committed.Step;
            }

            var ranks = membership.RendezvousOpen ? [] : membership.Members.Where(m => m.Rank is not null).Select(m => m.Rank!.Value).ToHashSet();
            foreach (RankStepStatus status in fleet.RankStatuses.Where(s => !ranks.Contains(s.Rank)))
            {
                fleet.ForgetRank(status.Rank);
                _observedStep.Remove(status.Rank);
            }
        }
    }

    /// <summary>Adds each ranked member's straggler standing to what status shows.</summary>
    public IReadOnlyList<MemberView> WithStanding(IReadOnlyList<MemberView> members)
    {
        var standing = fleet.RankStatuses.ToDictionary(s => s.Rank);
        return [.. members.Select(m => m.Rank is { } rank && standing.TryGetValue(rank, out RankStepStatus s)
            ? m with { StepTimeRatio = s.Ratio, Straggler = s.IsStraggler }
            : m)];
    }

    /// <summary>False for a generation older than the one already seen; resets per-rank history on a newer one.</summary>
    private bool AdvanceGeneration(long generation)
    {
        if (generation < _generation)
        {
            return false;
        }

        if (generation > _generation)
        {
            _generation = generation;
            _observedStep.Clear();
            fleet.SetGeneration(generation);
        }

        return true;
    }

    /// <summary>
    /// Members of the previously assigned generation that are not back: live while the rendezvous gathers, fixed once
    /// the new generation is assigned (those are the ones it went on without).
    /// </summary>
    private int CountLost(MembershipSnapshot membership)
    {
        var present = membership.Members.Select(m => m.WorkerId).ToHashSet(StringComparer.Ordinal);
        if (membership.RendezvousOpen)
        {
            _lost = [.. _assigned.Ids.Where(id => !present.Contains(id))];
        }
        else if (membership.Generation != _assigned.Generation)
        {
            // The rank holders: a newcomer waiting to join a running generation is listed, but not yet in it.
            var ranked = membership.Members.Where(m => m.Rank is not null).Select(m => m.WorkerId).ToHashSet(StringComparer.Ordinal);
            _lost = _assigned.Generation == 0 ? [] : [.. _assigned.Ids.Where(id => !ranked.Contains(id))];
            _assigned = (membership.Generation, ranked);
        }

        return _lost.Count;
    }

    /// <summary><c>task=value;…</c> by task name, values round-trippable, so a reader can compare them exactly.</summary>
    internal static string FormatLosses(IReadOnlyDictionary<string, double> losses) =>
        string.Join(';', losses.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value.ToString("R", CultureInfo.InvariantCulture)}"));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {Job}: rank {Rank} reported step {Step} (generation {Generation}) losses {Losses}")]
    private static partial void LogReported(ILogger logger, string job, int rank, long step, long generation, string losses);
}
