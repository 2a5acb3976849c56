namespace CommerceMM.Storage.Blobs;

/// <summary>A precondition on a write, with Azure's If-Match / If-None-Match semantics.</summary>
public readonly record struct BlobCondition
{
    private BlobCondition(BlobConditionKind kind, string? etag)
    {
        Kind = kind;
        ETag = etag;
    }

    /// <summary>Which precondition this is; <see cref="BlobConditionKind.None"/> for the default value.</summary>
    public BlobConditionKind Kind { get; }

    /// <summary>The ETag required by <see cref="BlobConditionKind.IfMatch"/>; otherwise <c>null</c>.</summary>
    public string? ETag { get; }

    /// <summary>Unconditional write (last writer wins).</summary>
    public static BlobCondition None => default;

    /// <summary>Create only: fails when the key already exists (If-None-Match: *).</summary>
    public static BlobCondition IfNoneMatchAny { get; } = new(BlobConditionKind.IfNoneMatchAny, null);

    /// <summary>Replace only the version carrying <paramref name="etag"/> (If-Match: etag); fails when the blob is absent or changed.</summary>
    public static BlobCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        return new BlobCondition(BlobConditionKind.IfMatch, etag);
    }

    public override string ToString() => Kind switch
    {
        BlobConditionKind.IfNoneMatchAny => "If-None-Match: *",
        BlobConditionKind.IfMatch => $"If-Match: {ETag}",
        _ => "unconditional",
    };
}

/// <summary>The kinds of <see cref="BlobCondition"/>.</summary>
public enum BlobConditionKind
{
    None = 0,
    IfNoneMatchAny,
    IfMatch,
}
