using System.Net;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>
/// How a coordinator's silo finds the other silos of its job's control plane. Without a provider it runs alone on
/// localhost (the embedded default of <c>cmm train</c>); with Redis or Azure Table storage, every silo of the job
/// registers in one membership table, and when one dies the job's grains move to a survivor.
/// </summary>
public sealed class ClusteringOptions
{
    /// <summary>The Redis membership table, <c>host:port</c> (StackExchange.Redis configuration syntax); null: localhost only.</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// The Azure Table membership table's storage connection string (a secret: from <c>CMM_AZURE_CONNECTION_STRING</c>,
    /// never the command line, never logged); null: not Azure Table.
    /// </summary>
    public string? AzureTableConnectionString { get; set; }

    /// <summary>The address other silos and workers reach this silo at (the pod IP on Kubernetes). <value>127.0.0.1.</value></summary>
    public IPAddress AdvertisedAddress { get; set; } = IPAddress.Loopback;

    /// <summary>
    /// How long a silo waits for a probe's answer before it counts as missed. Orleans' default (5 s) took 13-15 s to declare
    /// a killed silo dead here; 1 s took 1.3 s (PLATFORM.md). <value>1 s.</value>
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a silo re-reads the membership table and publishes that it is alive. <value>5 s.</value></summary>
    public TimeSpan TableRefreshTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public bool IsMultiSilo => Redis is not null || AzureTableConnectionString is not null;

    /// <summary>The environment variable <c>azure-table</c> clustering reads its connection string from.</summary>
    public const string AzureConnectionVariable = "CMM_AZURE_CONNECTION_STRING";

    /// <summary>
    /// Parses <c>--clustering</c>: <c>localhost</c>, <c>redis=HOST:PORT</c> or <c>azure-table</c> (its connection string from
    /// <see cref="AzureConnectionVariable"/>); throws naming the bad value and the forms it takes.
    /// </summary>
    public static ClusteringOptions Parse(string text)
    {
        string value = text.Trim();
        if (value is "" or "localhost")
        {
            return new ClusteringOptions();
        }

        if (value.StartsWith("redis=", StringComparison.Ordinal) && value.Length > "redis=".Length)
        {
            return new ClusteringOptions { Redis = value["redis=".Length..] };
        }

        if (value == "azure-table")
        {
            return new ClusteringOptions
            {
                AzureTableConnectionString = Environment.GetEnvironmentVariable(AzureConnectionVariable) is { Length: > 0 } connection
                    ? connection
                    : throw new ArgumentException($"clustering 'azure-table' reads the storage connection string from {AzureConnectionVariable}, which is not set"),
            };
        }

        throw new ArgumentException($"clustering '{text}' is not 'localhost', 'redis=HOST:PORT' (e.g. redis=redis:6379) or 'azure-table'");
    }

    /// <summary>The <c>--clustering</c> form, as `cmm coordinator --help` shows the default; never the connection string.</summary>
    public override string ToString() => Redis is { } redis ? $"redis={redis}" : AzureTableConnectionString is not null ? "azure-table" : "localhost";

    public void Validate()
    {
        if (ProbeTimeout <= TimeSpan.Zero || TableRefreshTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Clustering: ProbeTimeout ({ProbeTimeout}) and TableRefreshTimeout ({TableRefreshTimeout}) must be positive.", nameof(ProbeTimeout));
        }
    }
}
