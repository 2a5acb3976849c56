namespace CommerceMM.Worker.Checkpointing;

/// <summary>The files of a CommerceMM checkpoint step folder.</summary>
public static class CheckpointFiles
{
    /// <summary>Model state (student, EMA teacher, mim centre) in safetensors: loadable by PyTorch tools.</summary>
    public const string Model = "model.safetensors";

    /// <summary>AdamW moments in safetensors, the step count in its metadata.</summary>
    public const string Optimizer = "optimizer.safetensors";
}
