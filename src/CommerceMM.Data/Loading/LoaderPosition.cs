using System.Text.Json;

namespace CommerceMM.Data.Loading;

/// <summary>
/// Where a stream's reading stands, small enough for every checkpoint. In epoch <see cref="Epoch"/>
/// the first <see cref="Cursor"/> samples of the epoch order were consumed before the current world
/// started, and since then each of its <see cref="WorldSize"/> ranks consumed <see cref="Offset"/> more
/// (ranks advance in lock-step, so the record is the same on every rank). Resuming on any world size
/// continues at <see cref="Consumed"/>: every sample is seen once per epoch relative to the saved record.
/// </summary>
public sealed record LoaderPosition
{
    /// <summary>The version this code writes; newer records are refused by name.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>The stream the record belongs to (refused on another stream).</summary>
    public required string Stream { get; init; }

    /// <summary>Order inputs, kept so a resume with other settings is refused instead of silently replaying samples.</summary>
    public required ulong Seed { get; init; }
    public required int CanonicalPartitions { get; init; }
    public required long Samples { get; init; }

    public required long Epoch { get; init; }
    public required long Cursor { get; init; }
    public required long Offset { get; init; }
    public required int WorldSize { get; init; }

    /// <summary>Samples of this epoch's order already consumed by the whole world.</summary>
    public long Consumed => Cursor + Offset * WorldSize;

    /// <summary>The same point, expressed for a (possibly different) world size: offset folded into the cursor.</summary>
    public LoaderPosition Rebase(int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(worldSize);
        return Consumed >= Samples
            ? this with { Epoch = Epoch + 1, Cursor = 0, Offset = 0, WorldSize = worldSize }
            : this with { Cursor = Consumed, Offset = 0, WorldSize = worldSize };
    }

    /// <summary>
    /// This point moved on by <paramref name="samples"/> of the order, into later epochs as needed: data skipped on purpose
    /// (a rollback past the batches that made the loss diverge).
    /// </summary>
    public LoaderPosition Skip(long samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        long consumed = Consumed + samples;
        return this with { Epoch = Epoch + consumed / Samples, Cursor = consumed % Samples, Offset = 0 };
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <exception cref="FormatException">Not a position record, or one of a newer version.</exception>
    public static LoaderPosition FromJson(string json)
    {
        LoaderPosition? position;
        try { position = JsonSerializer.Deserialize<LoaderPosition>(json, JsonOptions); }
        catch (JsonException e) { throw new FormatException($"not a loader position record: {e.Message}", e); }
        if (position is null) throw new FormatException("empty loader position record");
        if (position.Version is < 1 or > CurrentVersion)
            throw new FormatException($"loader position version {position.Version} is not readable here (versions 1..{CurrentVersion})");
        if (position.Epoch < 0 || position.Cursor < 0 || position.Offset < 0 || position.WorldSize < 1 || position.Consumed > position.Samples)
            throw new FormatException($"loader position is inconsistent: {json}");
        return position;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
