using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Tests.Support;

/// <summary>
/// One caller of a test coordinator as a worker and its operator see it: the worker's calls go to the grains through the
/// Orleans gateway (<see cref="Workers"/>), the status calls through the HTTP API (<see cref="Status"/>).
/// </summary>
internal sealed class TestClient(CoordinatorClient workers, JobStatusClient status)
{
    public CoordinatorClient Workers { get; } = workers;

    public JobStatusClient Status { get; } = status;

    public static implicit operator CoordinatorClient(TestClient client) => client.Workers;

    public Task<JoinResponse> TryJoinAsync(string workerId, CancellationToken cancellationToken = default) => Workers.TryJoinAsync(workerId, cancellationToken);

    public Task<JoinResponse> JoinAsync(string workerId, CancellationToken cancellationToken = default) => Workers.JoinAsync(workerId, cancellationToken);

    public Task<OrderReply> HeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken = default) => Workers.HeartbeatAsync(heartbeat, cancellationToken);

    public Task<OrderReply> ReportFailureAsync(FailureReport report, CancellationToken cancellationToken = default) => Workers.ReportFailureAsync(report, cancellationToken);

    public Task<OrderReply> CompleteAsync(CompletionReport report, CancellationToken cancellationToken = default) => Workers.CompleteAsync(report, cancellationToken);

    public Task<CheckpointOrderView> OrderCheckpointAsync(CheckpointOrderRequest request, CancellationToken cancellationToken = default) => Workers.OrderCheckpointAsync(request, cancellationToken);

    public Task<CheckpointVoteReply> VoteCheckpointAsync(CheckpointVote vote, CancellationToken cancellationToken = default) => Workers.VoteCheckpointAsync(vote, cancellationToken);

    public Task<CheckpointStatusView> ReportRestoreAsync(RestoreReport report, CancellationToken cancellationToken = default) => Workers.ReportRestoreAsync(report, cancellationToken);

    public Task SetRendezvousAsync(long generation, string key, byte[] value, CancellationToken cancellationToken = default) => Workers.SetRendezvousAsync(generation, key, value, cancellationToken);

    public Task<RendezvousValue> GetRendezvousAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default) => Workers.GetRendezvousAsync(generation, key, wait, cancellationToken);

    public Task<JobStatusView> GetStatusAsync(CancellationToken cancellationToken = default) => Status.GetStatusAsync(cancellationToken);

    public Task<CheckpointStatusView> GetCheckpointsAsync(CancellationToken cancellationToken = default) => Status.GetCheckpointsAsync(cancellationToken);

    public Task<ShardLedgerView> GetShardsAsync(CancellationToken cancellationToken = default) => Status.GetShardsAsync(cancellationToken);

    public Task<JobSpec> GetSpecAsync(CancellationToken cancellationToken = default) => Workers.GetSpecAsync(cancellationToken);

    public Task<JobStatusView> StopAsync(bool now = false, CancellationToken cancellationToken = default) => Status.StopAsync(now, cancellationToken);
}
