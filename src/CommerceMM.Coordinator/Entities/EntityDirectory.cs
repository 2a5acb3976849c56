using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities.Abstractions;
using CommerceMM.Coordinator.Entities.Checkpoints;
using CommerceMM.Coordinator.Entities.Jobs;
using CommerceMM.Coordinator.Entities.Ledger;
using CommerceMM.Coordinator.Entities.Membership;
using CommerceMM.Coordinator.Entities.Rendezvous;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Storage.Blobs;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Entities;

/// <summary>The entities of one job, all keyed by the job name.</summary>
public sealed record JobEntities(IJobEntity Job, IMembershipEntity Membership, IShardLedgerEntity Ledger, ICheckpointEntity Checkpoints, IRendezvousEntity Rendezvous);

/// <summary>
/// Finds entities by key, the role Orleans' grain factory plays: one activation per key for the life of the process.
/// Entities are created here but activate (read their state) lazily on their first turn.
/// </summary>
public sealed class EntityDirectory
{
    private readonly Dictionary<string, JobEntities> _jobs = new(StringComparer.Ordinal);

    internal EntityDirectory(IEnumerable<JobSpec> jobs, IBlobStore store, LivenessOptions liveness, TimeProvider time, ILoggerFactory loggers)
    {
        foreach (JobSpec spec in jobs)
        {
            var job = new JobEntity(spec, store, time);
            var ledger = new ShardLedgerEntity(spec.Name, store);
            var rendezvous = new RendezvousEntity(spec.Name);
            var membership = new MembershipEntity(spec, job, ledger, rendezvous, store, liveness, time, loggers.CreateLogger<MembershipEntity>());
            var checkpoints = new CheckpointEntity(spec, ledger, job, store, liveness.CheckpointTimeout, time, loggers.CreateLogger<CheckpointEntity>());
            _jobs.Add(spec.Name, new JobEntities(job, membership, ledger, checkpoints, rendezvous));
        }
    }

    public IEnumerable<string> JobNames => _jobs.Keys;

    public bool TryGet(string job, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JobEntities? entities) => _jobs.TryGetValue(job, out entities);
}
