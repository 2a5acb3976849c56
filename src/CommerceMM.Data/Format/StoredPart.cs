namespace CommerceMM.Data.Format;

/// <summary>One part of a written sample: its bytes lie at <paramref name="Offset"/> of the shard <paramref name="File"/> (relative to the data set).</summary>
/// <param name="Name">the part's name, e.g. "jpg"</param>
/// <param name="Bytes">the bytes written (the caller's array)</param>
public sealed record StoredPart(string Name, byte[] Bytes, string File, long Offset);
