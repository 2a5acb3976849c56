namespace CommerceMM.Observability.Metrics;

/// <summary>
/// Meter names. The OpenTelemetry pipeline subscribes by these names; tests pass their own so that
/// parallel tests never see each other's measurements.
/// </summary>
public static class MeterNames
{
    public const string Worker = "CommerceMM.Worker";
    public const string Coordinator = "CommerceMM.Coordinator";
}

/// <summary>Label names. Only bounded sets: a task id, a stream, a rank below the world size, a state.</summary>
public static class LabelNames
{
    public const string Task = "task";
    public const string Stream = "stream";
    public const string Rank = "rank";
    public const string State = "state";
    public const string Modality = "modality";
    public const string Reason = "reason";
    /// <summary>host or device (<see cref="MetricNames.PeakMemory"/>).</summary>
    public const string Memory = "memory";
}

/// <summary>
/// Prometheus names of every instrument (ARCHITECTURE.md §6): base units in the name, <c>_total</c> on
/// counters. Instruments are created under exactly these names, so what the OpenTelemetry SDK hands
/// the exposition writer already reads as Prometheus.
/// </summary>
public static class MetricNames
{
    // Worker: one optimizer step.
    public const string Step = "cmm_step";
    public const string TaskLoss = "cmm_task_loss";
    public const string TaskLossWeight = "cmm_task_loss_weight";
    /// <summary>SCALE: mean self-harmonized weight of a modality over the rows having it.</summary>
    public const string ModalityWeight = "cmm_modality_weight";
    public const string StepDuration = "cmm_step_duration_seconds";
    public const string DataWait = "cmm_data_wait_seconds";
    public const string AllReduce = "cmm_allreduce_seconds";
    /// <summary>Bytes of a remote data set (data.dir: azure:…) the worker fetched into its cache; 0 for a local one.</summary>
    public const string DataFetched = "cmm_data_fetched_bytes_total";
    public const string Samples = "cmm_samples_total";
    public const string Tokens = "cmm_tokens_total";
    /// <summary>Bad samples the loader left out, by stream and reason: counted, never fatal.</summary>
    public const string SamplesSkipped = "cmm_samples_skipped_total";
    public const string GradNorm = "cmm_grad_norm";
    public const string LearningRate = "cmm_learning_rate";
    public const string SkippedSteps = "cmm_skipped_steps_total";
    /// <summary>The most memory the worker has held, by memory (host: peak resident set; device: GPU memory in use).</summary>
    public const string PeakMemory = "cmm_peak_memory_bytes";
    /// <summary>What that peak counts against, by memory (host: the worker's cap on the CPU; device: the GPU's memory).</summary>
    public const string MemoryLimit = "cmm_memory_limit_bytes";

    // Worker and coordinator: checkpoints.
    public const string CheckpointSave = "cmm_checkpoint_save_seconds";
    /// <summary>Time training waited for a save (the copy into host memory and queueing the upload); the upload runs on.</summary>
    public const string CheckpointStall = "cmm_checkpoint_stall_seconds";
    public const string CheckpointBytes = "cmm_checkpoint_bytes_total";
    public const string CheckpointLastCommittedStep = "cmm_checkpoint_last_committed_step";
    public const string CheckpointAge = "cmm_checkpoint_age_seconds";

    // Coordinator: the fleet.
    /// <summary>1 for the job's current state, 0 for the others (<see cref="JobStates"/>).</summary>
    public const string JobState = "cmm_job_state";
    public const string Workers = "cmm_workers";
    public const string WorkersExpected = "cmm_workers_expected";
    public const string Generation = "cmm_generation";
    public const string Restarts = "cmm_restarts_total";
    public const string HeartbeatAge = "cmm_heartbeat_age_seconds";
    public const string StepTimeRatio = "cmm_rank_step_time_ratio";
    public const string Straggler = "cmm_straggler";
}
