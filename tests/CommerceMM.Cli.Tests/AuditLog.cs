using System.Text.Json;
using CommerceMM.Worker.Training;

namespace CommerceMM.Cli.Tests;

/// <summary>The workers' step audits (CMM_AUDIT_DIR): which samples each rank consumed at each step, and its task losses.</summary>
internal static class AuditLog
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static Dictionary<string, string> Environment(string directory) => new() { ["CMM_AUDIT_DIR"] = directory };

    /// <summary>Every record of every worker, in file order.</summary>
    public static List<AuditRecord> Read(string directory) => Parse(Directory.EnumerateFiles(directory, "*.jsonl").SelectMany(File.ReadLines));

    /// <summary>The records of one worker (its file is named after its id).</summary>
    public static List<AuditRecord> ReadWorker(string directory, string workerId) =>
        Parse(File.ReadLines(Path.Combine(directory, $"audit-{workerId}.jsonl")));

    private static List<AuditRecord> Parse(IEnumerable<string> lines) => lines.Select(line => JsonSerializer.Deserialize<AuditRecord>(line, Web)!).ToList();
}
