using System.Text.Json;
using CommerceMM.Data.Loading;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>
/// What one rank adds to a checkpoint besides the replicated weights: where both data streams stand,
/// the dropout generator's state and the step counters. Versioned; a newer record is refused by name.
/// </summary>
public sealed record RankState
{
    public const int CurrentVersion = 1;
    public const string FileName = "state.json";

    public int Version { get; init; } = CurrentVersion;
    /// <summary>Completed steps: training continues with step index <see cref="Step"/>.</summary>
    public required long Step { get; init; }
    public required long SkippedSteps { get; init; }
    public required int WorldSize { get; init; }
    public required int Rank { get; init; }
    public required LoaderPosition Pairs { get; init; }
    public required LoaderPosition Omni { get; init; }
    /// <summary>The model's dropout generator state (Mersenne Twister bytes).</summary>
    public required byte[] DropoutGenerator { get; init; }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static RankState Parse(ReadOnlySpan<byte> json, string source)
    {
        RankState? state;
        try { state = JsonSerializer.Deserialize<RankState>(json, Json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a rank state record: {e.Message}", e); }
        if (state is null) throw new InvalidDataException($"{source}: empty rank state record");
        if (state.Version is < 1 or > CurrentVersion)
            throw new InvalidDataException($"{source}: rank state version {state.Version} is not readable by this build (versions 1..{CurrentVersion})");
        return state;
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
