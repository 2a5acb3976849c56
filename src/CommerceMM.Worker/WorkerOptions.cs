namespace CommerceMM.Worker;

/// <summary>How a worker process reaches its job. The spec itself comes from the coordinator.</summary>
public sealed record WorkerOptions
{
    /// <summary>The coordinator's Orleans gateways, <c>host:port</c> each.</summary>
    public required IReadOnlyList<string> Coordinator { get; init; }
    public required string Job { get; init; }
    /// <summary>The job's bearer token (from the environment or a file, never a flag or the spec).</summary>
    public required string Token { get; init; }
    /// <summary>Stable identity: a restarted pod with the same name gets its rank back.</summary>
    public string WorkerId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";
    /// <summary>An address of this machine that peers reach for Gloo (the pod IP on Kubernetes).</summary>
    public string InterfaceHost { get; init; } = "127.0.0.1";
    /// <summary>
    /// Intra-op threads where the job leaves them to the worker (job.threads 0): its share of its machine. Null: every CPU
    /// this process may use (<see cref="Environment.ProcessorCount"/>, which honours a container's CPU limit).
    /// </summary>
    public int? Threads { get; init; }
    /// <summary>
    /// The most host memory a worker on the CPU may allocate, in MiB (<see cref="Training.HostMemoryLimit"/>). Null: the
    /// memory free as it starts (<see cref="Observability.Metrics.ProcessMemory.AvailableBytes"/>, at most its container's limit); 0: no
    /// limit. `cmm train` gives each of its N workers 1/N of what is free as it starts.
    /// </summary>
    public int? MemoryLimitMib { get; init; }
    /// <summary>Port of this worker's own /metrics; null = none, 0 = any free port.</summary>
    public int? MetricsPort { get; init; }
    /// <summary>
    /// A collective that takes longer fails (a dead peer is usually detected at once). It covers forming the group and
    /// restoring; from the first heartbeat on, collectives wait as long as the coordinator waits for a heartbeat.
    /// </summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>
    /// When set, every step appends (generation, rank, step, epoch, sample keys) to a JSON-lines file
    /// here, so an audit can prove no committed sample was consumed twice or skipped across failures.
    /// </summary>
    public string? AuditDirectory { get; init; }

    /// <summary>Blob store for checkpoints; null = the one the spec names.</summary>
    public Storage.Blobs.IBlobStore? BlobStore { get; init; }
}

/// <summary>Exit codes with meaning: supervisors restart on Retry, never on BadSpec or JobFailed.</summary>
public static class WorkerExitCodes
{
    /// <summary>Training completed, or the job was stopped (incl. every worker preempted after their checkpoint): nothing is lost.</summary>
    public const int Done = 0;
    public const int Fatal = 1;
    public const int BadSpec = 2;
    /// <summary>The coordinator ended the job as Failed (`cmm status` says why): restarting this worker cannot help.</summary>
    public const int JobFailed = 3;
    /// <summary>
    /// Restart this worker: it lost contact with the coordinator, or it was preempted and left after its checkpoint while
    /// the others go on. Started again, it joins (the job grows back) and resumes from the last checkpoint.
    /// </summary>
    public const int Retry = 75;
}
