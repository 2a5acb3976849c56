namespace CommerceMM.Observability.Metrics;

/// <summary>Values of the <c>stream</c> label (ARCHITECTURE.md §4: pass 1 reads pairs, pass 2 omni).</summary>
public static class SampleStreams
{
    public const string Pairs = "pairs";
    public const string Omni = "omni";
    /// <summary>SCALE's five-modality products.</summary>
    public const string Products = "products";

    public static IReadOnlyList<string> All { get; } = [Pairs, Omni, Products];
}

/// <summary>Values of the <c>reason</c> label of <c>cmm_samples_skipped_total</c>: the data loader's skip reasons in snake case.</summary>
public static class SkipReasons
{
    public static IReadOnlyList<string> All { get; } =
    [
        "unreadable_record", "undecodable_image", "wrong_image_size", "empty_text", "invalid_text", "oversize_text",
        "missing_modality", "bad_metadata", "no_usable_modality", "length_out_of_range",
    ];
}

/// <summary>Values of the <c>modality</c> label: SCALE's five, in the model's order.</summary>
public static class Modalities
{
    public static IReadOnlyList<string> All { get; } = ["image", "text", "table", "video", "audio"];
}

/// <summary>
/// Values of the <c>state</c> label of <c>cmm_job_state</c>: the coordinator's job states. Every one is exported, 1 for
/// the job's current state and 0 for the rest, so an alert on <c>failed</c> needs no "absent" special case.
/// </summary>
public static class JobStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    /// <summary>Trained to its last step, and that step is committed.</summary>
    public const string Completed = "completed";
    public const string Failed = "failed";
    /// <summary>Stopped (preempted or by an operator) after a checkpoint: resumable.</summary>
    public const string Stopped = "stopped";

    public static IReadOnlyList<string> All { get; } = [Pending, Running, Completed, Failed, Stopped];
}

/// <summary>
/// Values of the <c>state</c> label of <c>cmm_workers</c>. Every state is always exported (zero
/// included), so an alert can compare a state's count without an "absent" special case.
/// </summary>
public static class WorkerStates
{
    /// <summary>Joined, waiting for the rest of the generation to form.</summary>
    public const string Joining = "joining";
    /// <summary>Member of the current generation and heartbeating.</summary>
    public const string Active = "active";
    /// <summary>Heartbeat overdue but not yet declared lost.</summary>
    public const string Suspect = "suspect";
    /// <summary>Declared lost (heartbeat timeout or failed collective); triggers a new generation.</summary>
    public const string Lost = "lost";
    /// <summary>Left cleanly (finished or preempted with a checkpoint).</summary>
    public const string Exited = "exited";

    public static IReadOnlyList<string> All { get; } = [Joining, Active, Suspect, Lost, Exited];
}
