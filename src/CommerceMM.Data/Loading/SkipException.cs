namespace CommerceMM.Data.Loading;

/// <summary>Thrown inside a decoder for a bad sample; the loader turns it into a counted skip, never an error.</summary>
internal sealed class SkipException(SkipReason reason) : Exception(reason.ToString())
{
    public SkipReason Reason { get; } = reason;
}
