using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Persistence;

/// <summary>Where entity state lives in the blob store: <c>JOB/coordinator/KIND.json</c>, beside <c>JOB/checkpoints/</c>.</summary>
internal static class EntityKeys
{
    public static string For(string job, string kind)
    {
        CheckpointLayout.ValidateJob(job);
        return $"{job}/coordinator/{kind}.json";
    }
}
