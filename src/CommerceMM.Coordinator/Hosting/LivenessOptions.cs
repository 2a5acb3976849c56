namespace CommerceMM.Coordinator.Hosting;

/// <summary>
/// How the coordinator decides a rank is dead and how long a rendezvous waits. The heartbeat timeout is
/// <c>max(<see cref="TimeoutFloor"/>, <see cref="StepTimeFactor"/> × p95(step seconds) + <see cref="HeartbeatInterval"/>)</c>
/// once steps have been observed, and <see cref="StartupTimeout"/> before a rank's first heartbeat in a generation
/// (restore and process-group set-up take longer than a step).
/// </summary>
public sealed class LivenessOptions
{
    public const double DefaultHeartbeatIntervalSeconds = 2;
    public const double DefaultTimeoutFloorSeconds = 10;
    public const double DefaultStepTimeFactor = 5;
    public const double DefaultStartupTimeoutSeconds = 120;
    public const double DefaultRendezvousTimeoutSeconds = 30;
    public const double DefaultJoinPollSeconds = 0.5;
    public const int DefaultStepWindow = 256;
    public const int DefaultMinCheckpointLeadSteps = 2;
    public const double DefaultCheckpointTimeoutSeconds = 600;

    /// <summary>How often workers heartbeat. <value>2 s.</value></summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(DefaultHeartbeatIntervalSeconds);

    /// <summary>The shortest heartbeat timeout, however fast the steps. <value>10 s.</value></summary>
    public TimeSpan TimeoutFloor { get; set; } = TimeSpan.FromSeconds(DefaultTimeoutFloorSeconds);

    /// <summary>Multiple of the p95 step time a rank may be silent for. <value>5.</value></summary>
    public double StepTimeFactor { get; set; } = DefaultStepTimeFactor;

    /// <summary>Timeout before a rank's first heartbeat of a generation (and after a coordinator restart). <value>120 s.</value></summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(DefaultStartupTimeoutSeconds);

    /// <summary>How long a rendezvous waits, from its first join, for the expected number of workers. <value>30 s.</value></summary>
    public TimeSpan RendezvousTimeout { get; set; } = TimeSpan.FromSeconds(DefaultRendezvousTimeoutSeconds);

    /// <summary>Poll interval suggested to waiting workers. <value>0.5 s.</value></summary>
    public TimeSpan JoinPollInterval { get; set; } = TimeSpan.FromSeconds(DefaultJoinPollSeconds);

    /// <summary>Step times kept for the p95 (all ranks together). <value>256.</value></summary>
    public int StepWindow { get; set; } = DefaultStepWindow;

    /// <summary>Fewest steps ahead of the furthest rank that a checkpoint order is placed. <value>2.</value></summary>
    public int MinCheckpointLeadSteps { get; set; } = DefaultMinCheckpointLeadSteps;

    /// <summary>
    /// How long a checkpoint order may wait for all votes before it is abandoned (a rank that skipped the step, or
    /// crashed mid-upload, would otherwise block every later order). <value>10 min.</value>
    /// </summary>
    public TimeSpan CheckpointTimeout { get; set; } = TimeSpan.FromSeconds(DefaultCheckpointTimeoutSeconds);

    /// <summary>How often the background sweep looks for overdue ranks; <see cref="Timeout.InfiniteTimeSpan"/> leaves sweeping to requests (tests). <value>1 s.</value></summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        Positive(HeartbeatInterval, nameof(HeartbeatInterval));
        Positive(TimeoutFloor, nameof(TimeoutFloor));
        Positive(StartupTimeout, nameof(StartupTimeout));
        Positive(RendezvousTimeout, nameof(RendezvousTimeout));
        Positive(JoinPollInterval, nameof(JoinPollInterval));
        Positive(CheckpointTimeout, nameof(CheckpointTimeout));
        if (SweepInterval != Timeout.InfiniteTimeSpan)
        {
            Positive(SweepInterval, nameof(SweepInterval));
        }

        if (!(StepTimeFactor >= 1) || double.IsInfinity(StepTimeFactor))
        {
            throw new ArgumentException($"{nameof(LivenessOptions)}.{nameof(StepTimeFactor)} must be a finite number >= 1 (was {StepTimeFactor}).", nameof(StepTimeFactor));
        }

        if (StepWindow < 1 || MinCheckpointLeadSteps < 1)
        {
            throw new ArgumentException($"{nameof(LivenessOptions)}.{(StepWindow < 1 ? nameof(StepWindow) : nameof(MinCheckpointLeadSteps))} must be at least 1.");
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(LivenessOptions)}.{name} must be positive (was {value}).", name);
        }
    }
}
