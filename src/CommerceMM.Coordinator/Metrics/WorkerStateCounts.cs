using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Observability.Metrics;

namespace CommerceMM.Coordinator.Metrics;

/// <summary>How the membership's view of each worker maps onto the states of <c>cmm_workers{state}</c>.</summary>
internal static class WorkerStateCounts
{
    /// <summary>
    /// Counts per <see cref="WorkerStates"/> value (every state present, zero included). Waiting and not yet heartbeating
    /// ranks are joining; a running rank silent for over half its heartbeat timeout is suspect (a heartbeat comes every
    /// step, so that is many steps' worth of silence, but it is not evicted yet); once the job has ended every member has
    /// exited. <paramref name="lost"/> is counted by the caller, which remembers who was a member before the last bump.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Of(MembershipSnapshot membership, bool jobEnded, int lost)
    {
        var counts = WorkerStates.All.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        if (jobEnded)
        {
            counts[WorkerStates.Exited] = membership.Members.Count;
            return counts;
        }

        double suspectAfter = membership.HeartbeatTimeout.TotalSeconds / 2;
        foreach (MemberView member in membership.Members)
        {
            string state = member.State switch
            {
                MemberState.Running when member.HeartbeatAgeSeconds > suspectAfter => WorkerStates.Suspect,
                MemberState.Running => WorkerStates.Active,
                _ => WorkerStates.Joining,
            };
            counts[state]++;
        }

        counts[WorkerStates.Lost] = lost;
        return counts;
    }
}
