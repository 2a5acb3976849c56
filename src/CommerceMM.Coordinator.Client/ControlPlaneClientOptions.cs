namespace CommerceMM.Coordinator.Client;

/// <summary>Which job to reach with which token, and how hard to try: what the worker's and the CLI's clients share.</summary>
public abstract class ControlPlaneClientOptions
{
    public const int DefaultMaxRetries = 8;
    public const double DefaultBaseDelaySeconds = 0.2;
    public const double DefaultMaxDelaySeconds = 5;
    public const double DefaultAttemptTimeoutSeconds = 30;

    public required string Job { get; set; }

    /// <summary>The job's token (from the environment or a file; never logged).</summary>
    public required string Token { get; set; }

    /// <summary>Retries after the first attempt for transient failures (unreachable, timed out, a silo failing over). <value>8.</value></summary>
    /// <remarks>With the defaults the retries span about half a minute: enough to ride out a coordinator restart or a silo failover.</remarks>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>First retry delay; later ones grow exponentially with jitter. <value>0.2 s.</value></summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(DefaultBaseDelaySeconds);

    /// <summary>Cap on one retry delay. <value>5 s.</value></summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(DefaultMaxDelaySeconds);

    /// <summary>
    /// Deadline of one attempt of a status read, a checkpoint order or a vote. A last vote waits for the commit's
    /// verification; when that takes longer, the vote's retry is answered once the commit is done. <value>30 s.</value>
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(DefaultAttemptTimeoutSeconds);

    /// <summary>Clock for retry delays and join polling. <value>TimeProvider.System.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public virtual void Validate()
    {
        Storage.Checkpoints.CheckpointLayout.ValidateJob(Job);
        if (string.IsNullOrWhiteSpace(Token))
        {
            throw new ArgumentException("A token is required (CMM_JOB_TOKEN or a token file).", nameof(Token));
        }

        if (MaxRetries < 0 || BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay || AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{GetType().Name}: MaxRetries >= 0, BaseDelay > 0, MaxDelay >= BaseDelay and AttemptTimeout > 0 are required.");
        }
    }
}
