namespace CommerceMM.Cli.Launch;

/// <summary>How `cmm train` exposes a local job to Prometheus; launcher flags, not job spec keys (a cluster scrapes differently).</summary>
/// <param name="Enabled">Workers serve /metrics on free ports and the targets file is kept up to date.</param>
/// <param name="TargetsFile">The file_sd file to write; null = <see cref="PrometheusTargets.DefaultPath"/>.</param>
internal sealed record LocalMetricsOptions(bool Enabled, string? TargetsFile)
{
    public static LocalMetricsOptions Off { get; } = new(false, null);
}
