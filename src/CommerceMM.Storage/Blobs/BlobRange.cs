namespace CommerceMM.Storage.Blobs;

/// <summary>A byte range of a blob: <see cref="Length"/> bytes from <see cref="Offset"/>, or to the end when <see cref="Length"/> is null.</summary>
public readonly record struct BlobRange
{
    public BlobRange(long offset, long? length = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(l, nameof(length));
        }

        Offset = offset;
        Length = length;
    }

    public long Offset { get; }

    public long? Length { get; }

    /// <summary>The range clipped to a blob of <paramref name="size"/> bytes: (start, count), count possibly 0.</summary>
    public (long Start, long Count) Clip(long size)
    {
        if (Offset >= size)
        {
            return (size, 0);
        }

        long count = Length is { } l ? Math.Min(l, size - Offset) : size - Offset;
        return (Offset, count);
    }

    public override string ToString() => Length is { } l ? $"bytes {Offset}..{Offset + l - 1}" : $"bytes {Offset}..end";
}
