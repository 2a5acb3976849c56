namespace CommerceMM.Coordinator.Client;

/// <summary>How to reach one job on a coordinator, and how hard to try.</summary>
public sealed class CoordinatorClientOptions
{
    public const int DefaultMaxRetries = 8;
    public const double DefaultBaseDelaySeconds = 0.2;
    public const double DefaultMaxDelaySeconds = 5;
    public const double DefaultAttemptTimeoutSeconds = 30;

    /// <summary>The coordinator's base URL, e.g. <c>http://coordinator:7070/</c>.</summary>
    public required Uri BaseAddress { get; set; }

    public required string Job { get; set; }

    /// <summary>The job's bearer token (from the environment or a file; never logged).</summary>
    public required string Token { get; set; }

    /// <summary>
    /// Sent with every join: which process this is. A worker that joins again from a new process (a relaunch, a
    /// supervisor restart) thereby starts a new generation, so nothing its old process did can count.
    /// <value>One random value per process (<see cref="ThisProcess"/>), shared by its clients.</value>
    /// </summary>
    /// <remarks>Tests that play several launches in one process set distinct values.</remarks>
    public string? Incarnation { get; set; } = ThisProcess;

    /// <summary>This process's incarnation: random, fixed for the life of the process.</summary>
    public static string ThisProcess { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Retries after the first attempt for transient failures (connection refused, 5xx, 408, 429, attempt timeout). <value>8.</value></summary>
    /// <remarks>With the defaults the retries span about half a minute: enough to ride out a coordinator restart.</remarks>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>First retry delay; later ones grow exponentially with jitter. <value>0.2 s.</value></summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(DefaultBaseDelaySeconds);

    /// <summary>Cap on one retry delay. <value>5 s.</value></summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(DefaultMaxDelaySeconds);

    /// <summary>Timeout of one attempt (a checkpoint's last vote waits for the commit's verification). <value>30 s.</value></summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(DefaultAttemptTimeoutSeconds);

    /// <summary>Clock for retry delays and join polling. <value>TimeProvider.System.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(BaseAddress, nameof(BaseAddress));
        if (!BaseAddress.IsAbsoluteUri || (BaseAddress.Scheme != Uri.UriSchemeHttp && BaseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{nameof(BaseAddress)} must be an absolute http(s) URL (was '{BaseAddress}').", nameof(BaseAddress));
        }

        Storage.Checkpoints.CheckpointLayout.ValidateJob(Job);
        if (string.IsNullOrWhiteSpace(Token))
        {
            throw new ArgumentException("A token is required (CMM_COORDINATOR_TOKEN or a token file).", nameof(Token));
        }

        if (Incarnation is not null && (Incarnation.Length is 0 or > 64 || !Incarnation.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new ArgumentException($"{nameof(Incarnation)} must be 1 to 64 of A-Z a-z 0-9 - _ (was '{Incarnation}').", nameof(Incarnation));
        }

        if (MaxRetries < 0 || BaseDelay <= TimeSpan.Zero || MaxDelay < BaseDelay || AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(CoordinatorClientOptions)}: MaxRetries >= 0, BaseDelay > 0, MaxDelay >= BaseDelay and AttemptTimeout > 0 are required.");
        }
    }
}
