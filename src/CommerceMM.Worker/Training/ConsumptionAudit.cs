using CommerceMM.Model.Tasks;
using System.Text.Json;

namespace CommerceMM.Worker.Training;

/// <summary>
/// One line per step of which samples this rank consumed and the loss each task computed on them, appended
/// and flushed as it happens (a kill -9 loses at most the line in flight). The losses make whole loss curves
/// comparable offline (tools/precision-band: bf16 against fp32's seed-to-seed band).
/// </summary>
internal sealed class ConsumptionAudit(string directory, string workerId) : IDisposable
{
    private readonly StreamWriter _file = new(Path.Combine(Directory.CreateDirectory(directory).FullName, $"audit-{workerId}.jsonl"), append: true) { AutoFlush = true };

    public void Record(long generation, int rank, SessionStep step) =>
        _file.WriteLine(JsonSerializer.Serialize(new AuditRecord(generation, rank, step.Result.Step, step.Epoch, step.Consumed.ToDictionary(c => c.Stream, c => c.Keys),
            step.Result.Tasks.Where(t => t.Status == TaskOutcome.Ok).ToDictionary(t => t.Task, t => t.Loss))));

    public void Dispose() => _file.Dispose();
}

/// <summary>The audit line format (JSON with the .NET property names): sample keys per stream, and this rank's loss per task that ran.</summary>
public sealed record AuditRecord(long Generation, int Rank, long Step, long Epoch, IReadOnlyDictionary<string, IReadOnlyList<string>> Streams,
                                 IReadOnlyDictionary<string, double> Losses);
