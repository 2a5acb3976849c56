using CommerceMM.Coordinator.Contracts;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Stragglers;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>Everything a coordinator needs to start. Secrets (<see cref="Token"/>) come from the environment or a file, never the job spec.</summary>
public sealed class CoordinatorOptions
{
    public const string DefaultUrl = "http://0.0.0.0:7070";

    /// <summary>The job this coordinator runs.</summary>
    public required JobSpec Job { get; set; }

    /// <summary>The job's bearer token; every request except <c>/healthz</c> must carry it.</summary>
    public required string Token { get; set; }

    /// <summary>Where grain state (and checkpoints) live; the embedded default is a <c>FileBlobStore</c>.</summary>
    public required IBlobStore BlobStore { get; set; }

    /// <summary>Kestrel URLs; port 0 picks a free one (see <see cref="CoordinatorHost.BaseAddress"/>). <value>http://0.0.0.0:7070.</value></summary>
    public IList<string> Urls { get; set; } = [DefaultUrl];

    /// <summary>The Orleans silo's port for silo-to-silo traffic; 0 picks a free one. <value>0.</value></summary>
    public int SiloPort { get; set; }

    /// <summary>The Orleans gateway port clients connect to; 0 picks a free one. <value>0.</value></summary>
    public int GatewayPort { get; set; }

    /// <summary>How this silo finds the other silos of the job (localhost alone by default, or a Redis membership table).</summary>
    public ClusteringOptions Clustering { get; set; } = new();

    public LivenessOptions Liveness { get; set; } = new();

    /// <summary>When a rank counts as a straggler (<c>cmm_straggler</c> and the status's <c>straggler</c>).</summary>
    public StragglerOptions Stragglers { get; set; } = new();

    /// <summary>
    /// How often workers-by-state, generation, restarts and the last commit are re-read from the entities for
    /// <c>/metrics</c>; <see cref="Timeout.InfiniteTimeSpan"/> refreshes only at start-up (tests). <value>1 s.</value>
    /// </summary>
    /// <remarks>Heartbeat ages and step times are recorded as heartbeats arrive, whatever this is.</remarks>
    public TimeSpan MetricsRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Name of the meter the fleet metrics are recorded on and <c>/metrics</c> reads. <value>CommerceMM.Coordinator.</value>
    /// </summary>
    /// <remarks>Meters are matched by name process-wide: tests running several coordinators in one process give each its own.</remarks>
    public string MetricsMeterName { get; set; } = MeterNames.Coordinator;

    /// <summary>Clock for every timeout and timestamp; tests pass a manual one. <value>TimeProvider.System.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The spec of <paramref name="job"/>, which grains are keyed by; a job this coordinator does not run is an error.</summary>
    public JobSpec SpecOf(string job) =>
        string.Equals(job, Job.Name, StringComparison.Ordinal)
            ? Job
            : throw new ArgumentException($"this coordinator runs job '{Job.Name}', not '{job}'", nameof(job));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Job, nameof(Job));
        ArgumentNullException.ThrowIfNull(BlobStore, nameof(BlobStore));
        CheckpointLayout.ValidateJob(Job.Name);
        if (Job.Workers < 1)
        {
            throw new ArgumentException($"Job '{Job.Name}': workers must be at least 1 (was {Job.Workers}).", "workers");
        }

        if (Job.MinWorkers < 1 || Job.MinWorkers > Job.Workers)
        {
            throw new ArgumentException($"Job '{Job.Name}': minWorkers must be between 1 and workers ({Job.Workers}) (was {Job.MinWorkers}).", "minWorkers");
        }

        if (Job.CheckpointEverySteps < 0 || Job.MaxRestarts < 0 || Job.MaxSteps is < 1)
        {
            throw new ArgumentException($"Job '{Job.Name}': checkpointEverySteps and maxRestarts must be >= 0 and maxSteps >= 1.", "checkpointEverySteps");
        }

        if (string.IsNullOrWhiteSpace(Token) || Token.Length < 16)
        {
            // The length rule keeps 'changeme'-style tokens out; the token itself is never echoed.
            throw new ArgumentException("The coordinator token must be at least 16 characters.", nameof(Token));
        }

        if (Urls.Count == 0)
        {
            throw new ArgumentException("At least one URL is needed.", nameof(Urls));
        }

        if (SiloPort is < 0 or > 65535 || GatewayPort is < 0 or > 65535 || (SiloPort != 0 && SiloPort == GatewayPort))
        {
            throw new ArgumentException($"The silo port ({SiloPort}) and gateway port ({GatewayPort}) must be distinct ports 1-65535, or 0 for a free one.", nameof(SiloPort));
        }

        if (MetricsRefreshInterval != Timeout.InfiniteTimeSpan && MetricsRefreshInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(MetricsRefreshInterval)} must be positive or infinite (was {MetricsRefreshInterval}).", nameof(MetricsRefreshInterval));
        }

        if (string.IsNullOrWhiteSpace(MetricsMeterName))
        {
            throw new ArgumentException($"{nameof(MetricsMeterName)} must not be empty.", nameof(MetricsMeterName));
        }

        Clustering.Validate();
        if (Clustering.IsMultiSilo && (SiloPort == 0 || GatewayPort == 0))
        {
            throw new ArgumentException("A silo of a multi-silo control plane needs fixed silo and gateway ports (other silos and workers must find it).", nameof(SiloPort));
        }

        Liveness.Validate();
        Stragglers.Validate();
    }
}
