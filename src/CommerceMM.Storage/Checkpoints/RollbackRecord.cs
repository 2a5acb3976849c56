using System.Globalization;
using System.Text.Json;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// Beside a rollback's kept checkpoints (<c>JOB/rolled-back/STAMP/rolled-back.json</c>): when it moved <c>latest</c> from
/// <paramref name="FromStep"/> back to <paramref name="ToStep"/>, the steps of data training skips there, why, and the
/// <paramref name="Steps"/> kept. Written before <c>latest</c> moves, so a folder without it never counted.
/// </summary>
public sealed record RollbackRecord(DateTimeOffset RolledBackUtc, long FromStep, long ToStep, long SkipSteps, string Reason, IReadOnlyList<long> Steps)
{
    public const string FileName = "rolled-back.json";

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, CheckpointJsonContext.Default.RollbackRecord);

    /// <summary>The record, or null when the bytes are none (an interrupted copy) or not a record.</summary>
    public static RollbackRecord? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            return json.IsEmpty ? null : JsonSerializer.Deserialize(json, CheckpointJsonContext.Default.RollbackRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"rolled back {RolledBackUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC from step {FromStep} to step {ToStep}" +
        $"{(SkipSteps > 0 ? $", skipping the data of {SkipSteps} step{(SkipSteps == 1 ? "" : "s")}" : "")}: {Reason}");
}
