using System.Globalization;
using System.Text.Json;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The scrape targets of a local job in Prometheus's file_sd format: the coordinator, and each worker at the metrics URL
/// its heartbeats report, labelled <c>component</c>, <c>cmm_job</c> and (workers) <c>rank</c> as
/// cluster/prometheus/prometheus.yml and alerts.yml expect. Rewritten only when a target changes (a new generation moves
/// ranks), atomically, since Prometheus re-reads the file whenever it changes.
/// </summary>
internal sealed class PrometheusTargets(string path, string job, Uri coordinatorMetrics)
{
    private string? _written;

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>The default file when none is named: beside the checkpoints of a file store, else under ./runs.</summary>
    public static string DefaultPath(string checkpointStore, string job)
    {
        string root = checkpointStore.StartsWith("file:", StringComparison.Ordinal) ? checkpointStore["file:".Length..] : "runs";
        return System.IO.Path.Combine(root, "prometheus-targets", job + ".json");
    }

    /// <summary>Writes the coordinator and every ranked member that reported a metrics URL, if anything changed.</summary>
    public void Update(IEnumerable<MemberView> members)
    {
        var workers = members
            .Where(m => m.Rank is not null && m.MetricsUrl is not null)
            .OrderBy(m => m.Rank)
            .Select(m => (m.Rank!.Value, new Uri(m.MetricsUrl!)));
        Write(Render(job, coordinatorMetrics, workers));
    }

    /// <summary>No targets: the job is over, so a local Prometheus stops scraping processes that are gone.</summary>
    public void Clear() => Write("[]\n");

    internal static string Render(string job, Uri coordinator, IEnumerable<(int Rank, Uri Url)> workers)
    {
        var groups = new List<object> { Group(coordinator, new() { ["component"] = "coordinator", ["cmm_job"] = job }) };
        groups.AddRange(workers.Select(w => Group(w.Url, new()
        {
            ["component"] = "worker",
            ["cmm_job"] = job,
            ["rank"] = w.Rank.ToString(CultureInfo.InvariantCulture),
        })));
        return JsonSerializer.Serialize(groups, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>One target; the URL's path and scheme travel as Prometheus's own meta labels.</summary>
    private static object Group(Uri url, Dictionary<string, string> labels)
    {
        labels["__metrics_path__"] = url.AbsolutePath;
        labels["__scheme__"] = url.Scheme;
        return new { targets = new[] { url.Authority }, labels };
    }

    private void Write(string content)
    {
        if (content == _written) return;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        // Renamed into place: Prometheus watches the file and must never read half of it.
        string temporary = Path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, Path, overwrite: true);
        _written = content;
    }
}
