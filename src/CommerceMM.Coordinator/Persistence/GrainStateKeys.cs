using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Persistence;

/// <summary>Where grain state lives in the blob store: <c>JOB/coordinator/STATE.json</c>, beside <c>JOB/checkpoints/</c>.</summary>
internal static class GrainStateKeys
{
    /// <summary>The storage provider name grains name in <c>[PersistentState(state, Provider)]</c>.</summary>
    public const string Provider = "cmm";

    /// <summary>The state names of a job's grains.</summary>
    public const string Job = "job", Membership = "membership", Ledger = "ledger", Checkpoints = "checkpoints";

    public static readonly IReadOnlyList<string> All = [Job, Membership, Ledger, Checkpoints];

    public static string For(string job, string stateName)
    {
        CheckpointLayout.ValidateJob(job);
        return $"{job}/coordinator/{stateName}.json";
    }

    /// <summary>Where <see cref="CoordinatorState.SetAsideAsync"/> moves a state blob: <c>JOB/coordinator/set-aside-STAMP/STATE.json</c>.</summary>
    public static string SetAsideFor(string job, string stateName, DateTimeOffset at) =>
        For(job, $"set-aside-{at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)}/{stateName}");
}
