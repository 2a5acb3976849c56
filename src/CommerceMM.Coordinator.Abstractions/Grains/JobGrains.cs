namespace CommerceMM.Coordinator.Grains;

/// <summary>The grains of one job, all keyed by the job name.</summary>
public sealed record JobGrains(IJobGrain Job, IMembershipGrain Membership, IShardLedgerGrain Ledger, ICheckpointGrain Checkpoints, IRendezvousGrain Rendezvous, IWorkerGatewayGrain Workers)
{
    public static JobGrains For(IGrainFactory grains, string job) => new(
        grains.GetGrain<IJobGrain>(job),
        grains.GetGrain<IMembershipGrain>(job),
        grains.GetGrain<IShardLedgerGrain>(job),
        grains.GetGrain<ICheckpointGrain>(job),
        grains.GetGrain<IRendezvousGrain>(job),
        grains.GetGrain<IWorkerGatewayGrain>(job));
}
