using System.Text.Json;
using CommerceMM.Data.Loading;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>
/// What one rank adds to a checkpoint besides the replicated weights: where each data stream stands,
/// the dropout generator's state and the step counters. Versioned; a newer record is refused by name.
/// Version 1 (CommerceMM only) kept the two streams in fields of their own; it still restores.
/// </summary>
public sealed record RankState
{
    public const int CurrentVersion = 2;
    public const string FileName = "state.json";

    public int Version { get; init; } = CurrentVersion;
    /// <summary>Completed steps: training continues with step index <see cref="Step"/>.</summary>
    public required long Step { get; init; }
    public required long SkippedSteps { get; init; }
    public required int WorldSize { get; init; }
    public required int Rank { get; init; }
    /// <summary>Loader position per stream the model reads ("pairs" and "omni", or "products").</summary>
    public required IReadOnlyDictionary<string, LoaderPosition> Streams { get; init; }
    /// <summary>The model's dropout generator state (Mersenne Twister bytes).</summary>
    public required byte[] DropoutGenerator { get; init; }
    /// <summary>SHA-256 of the data set's tokenizer the model trained with (absent in checkpoints from before it was recorded).</summary>
    public string? TokenizerSha256 { get; init; }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static RankState Parse(ReadOnlySpan<byte> json, string source)
    {
        RankState? state;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            int version = document.RootElement.TryGetProperty("version", out var v) && v.TryGetInt32(out int n) ? n : 0;
            if (version is < 1 or > CurrentVersion)
                throw new InvalidDataException($"{source}: rank state version {version} is not readable by this build (versions 1..{CurrentVersion})");
            state = version == 1 ? document.Deserialize<Version1>(Json)?.Upgrade() : document.Deserialize<RankState>(Json);
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a rank state record: {e.Message}", e); }
        return state ?? throw new InvalidDataException($"{source}: empty rank state record");
    }

    /// <summary>The version-1 layout: CommerceMM's two streams as fields.</summary>
    private sealed record Version1(long Step, long SkippedSteps, int WorldSize, int Rank, LoaderPosition Pairs, LoaderPosition Omni, byte[] DropoutGenerator)
    {
        public RankState Upgrade() => new()
        {
            Step = Step, SkippedSteps = SkippedSteps, WorldSize = WorldSize, Rank = Rank, DropoutGenerator = DropoutGenerator,
            Streams = new Dictionary<string, LoaderPosition> { [Pairs.Stream] = Pairs, [Omni.Stream] = Omni },
        };
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
