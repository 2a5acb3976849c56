namespace CommerceMM.Worker.Spec;

// The job spec as written in YAML (snake_case keys). Mutable classes because YamlDotNet fills them;
// everything is validated by SpecLoader before use, and every error names the key.

/// <summary>A whole training job: what to train, on what, how, and where checkpoints go.</summary>
public sealed class TrainingSpec
{
    public JobSection Job { get; set; } = new();
    public ModelSection Model { get; set; } = new();
    public DataSection Data { get; set; } = new();
    public OptimizerSection Optimizer { get; set; } = new();
    public CheckpointSection Checkpoint { get; set; } = new();
}

public sealed class JobSection
{
    /// <summary>One blob-key segment: the checkpoint folder and the coordinator's route key.</summary>
    public string Name { get; set; } = "fashion-tiny";
    /// <summary>
    /// Another job in the same checkpoint store whose newest checkpoint's weights this job starts from, while it has no
    /// checkpoint of its own (continued pre-training, say on a grown catalog built with --tokenizer-from). Its step, data
    /// order and optimizer start afresh. Empty: start from the seed.
    /// </summary>
    public string InitFrom { get; set; } = "";
    /// <summary>Target world size (worker processes).</summary>
    public int Workers { get; set; } = 2;
    /// <summary>Smallest world size worth training with after failures.</summary>
    public int MinWorkers { get; set; } = 1;
    public long MaxSteps { get; set; } = 300;
    /// <summary>New generations (after a lost or failed worker) the job may start before it is marked Failed.</summary>
    public int MaxRestarts { get; set; } = 100;
    /// <summary>Seeds model init, masks, negatives, allocations and the data order.</summary>
    public ulong Seed { get; set; } = 1;
    /// <summary>Intra-op threads per worker; 0 = each worker its share of its machine (WorkerOptions.Threads).</summary>
    public int Threads { get; set; }
    /// <summary>Where each worker's tensors live: cpu, cuda (the first GPU) or cuda:N. Checkpoints restore onto any device.</summary>
    public string Device { get; set; } = "cpu";
    /// <summary>Steps between heartbeat log lines in the worker's own output.</summary>
    public int LogEvery { get; set; } = 10;
    /// <summary>
    /// Multi-silo control plane: how long a silo waits for a probe's answer before counting it missed. 1 s declared a
    /// killed silo dead in 1.3 s here; Orleans' default (5 s) took 13-15 s (PLATFORM.md).
    /// </summary>
    public double SiloProbeTimeoutSeconds { get; set; } = 1;
    /// <summary>Multi-silo control plane: how often a silo re-reads the membership table and says it is alive.</summary>
    public double SiloTableRefreshSeconds { get; set; } = 5;
}

public sealed class ModelSection
{
    /// <summary>commercemm (MODEL.md §2–§7) or scale (M5Product's SCALE, §8).</summary>
    public string Kind { get; set; } = "commercemm";
    /// <summary>tiny, small or base (MODEL.md §2); SCALE has tiny only.</summary>
    public string Preset { get; set; } = "tiny";
    /// <summary>Task id → weight; missing tasks weigh 1, 0 disables a task.</summary>
    public Dictionary<string, double> TaskWeights { get; set; } = [];
    /// <summary>Modality-randomization allocations; empty = full depth only.</summary>
    public List<AllocationEntry> Allocations { get; set; } = [];
    public int? Prototypes { get; set; }
    /// <summary>SCALE only: the modalities the model encodes (image, text, table, video, audio); empty = all five.</summary>
    public List<string> Modalities { get; set; } = [];
    /// <summary>SCALE only: let the masked losses' harmonized weights pass gradients (MODEL.md §8's letter; collapses on our data). Default false.</summary>
    public bool? MaskedWeightGradient { get; set; }
    public double? Dropout { get; set; }
    /// <summary>fp32, or bf16: bf16 compute with fp32 master weights and fp32 loss reductions. Checkpoints are the same either way.</summary>
    public string Precision { get; set; } = "fp32";
}

public sealed class AllocationEntry
{
    public int Text { get; set; }
    public int Image { get; set; }
    public int Fusion { get; set; }
    public double Probability { get; set; } = 1;
}

public sealed class DataSection
{
    /// <summary>
    /// A data set folder holding dataset.json (built by `cmm data build fashion`), or azure:CONTAINER/PATH where
    /// `cmm data push` put one: then each worker fetches its shards as it first reads them, into <see cref="CacheDir"/>.
    /// </summary>
    public string Dir { get; set; } = "data/fashion";
    /// <summary>Where a data set in blob storage is kept on this machine; empty: TMPDIR/cmm-data/CONTAINER/PATH.</summary>
    public string CacheDir { get; set; } = "";
    /// <summary>Rows per rank per step, for each of the two streams.</summary>
    public int BatchSize { get; set; } = 32;
    public int Prefetch { get; set; } = 4;
    public int DecodeWorkers { get; set; } = 1;
}

public sealed class OptimizerSection
{
    public double Lr { get; set; } = 1e-3;
    public double MinLr { get; set; } = 1e-5;
    public long WarmupSteps { get; set; } = 30;
    public double WeightDecay { get; set; } = 0.05;
    public double MaxGradNorm { get; set; } = 1.0;
}

public sealed class CheckpointSection
{
    /// <summary>Blob store URI: file:DIR (default), or azure: (account from CMM_AZURE_CONNECTION_STRING, never from the spec).</summary>
    public string Store { get; set; } = "file:runs";
    public string Container { get; set; } = "commercemm";
    /// <summary>Periodic checkpoints every N steps; 0 = only on order (preemption).</summary>
    public long Every { get; set; } = 100;
    public int KeepLast { get; set; } = 3;
    /// <summary>Also keep every M-th step forever; 0 = none.</summary>
    public long KeepEvery { get; set; }
    /// <summary>Seconds a preempted worker has to finish its step and write its part.</summary>
    public double GraceSeconds { get; set; } = 60;
}
