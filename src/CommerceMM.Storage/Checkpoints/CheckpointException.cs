namespace CommerceMM.Storage.Checkpoints;

/// <summary>A checkpoint cannot be written, committed or restored as asked; the message names the step, file and values involved.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message)
        : base(message)
    {
    }

    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
