namespace CommerceMM.Coordinator.Grains;

/// <summary>The Orleans identity of a job's control plane: its silos and its clients must agree on both ids.</summary>
public static class ControlPlaneCluster
{
    public const string ServiceId = "cmm";

    /// <summary>One cluster per job: a silo of one job never takes another job's clients or calls.</summary>
    public static string ClusterIdOf(string job) => $"cmm-{job}";
}
