using System.Text.Json;
using System.Text.RegularExpressions;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Cluster;

public sealed partial class GrafanaDashboardTests
{
    private static readonly string DashboardPath = RepoPaths.Cluster("grafana", "commercemm-training.json");

    /// <summary>Every PromQL expression in the dashboard: panel targets and templating queries.</summary>
    private static List<string> Expressions() =>
        [.. GrafanaDashboard.PanelQueries(DashboardPath).Select(q => q.Expr), .. GrafanaDashboard.VariableQueries(DashboardPath)];

    [Fact]
    public void Dashboard_Json_HasUniquePanelIdsAndTargetsOnEveryPanel()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var panels = doc.RootElement.GetProperty("panels").EnumerateArray().ToList();

        Assert.Equal("commercemm-training", doc.RootElement.GetProperty("uid").GetString());
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.All(panels.Where(p => p.GetProperty("type").GetString() != "row"),
            p => Assert.NotEmpty(p.GetProperty("targets").EnumerateArray()));
    }

    [Fact]
    public void Dashboard_EveryQueriedMetric_IsExportedByTheLibrary()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything();
        var scrape = recorders.Pipeline.Scrape();
        // Series names as Prometheus stores them: histograms as _bucket/_sum/_count.
        var exported = Support.Exposition.Samples(scrape).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        exported.Add("up"); // added by Prometheus to every target

        var queried = Expressions()
            .SelectMany(e => MetricReference().Matches(StripLabelMatchers(e)).Select(m => m.Value))
            .Where(n => !PromQlWords.Contains(n))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Empty(queried.Except(exported).Order());
        // And the dashboard shows what the issue asks for.
        Assert.Contains(MetricNames.TaskLoss, queried);
        Assert.Contains(MetricNames.Samples, queried);
        Assert.Contains(MetricNames.DataWait + "_sum", queried);
        Assert.Contains(MetricNames.CheckpointAge, queried);
        Assert.Contains(MetricNames.Workers, queried);
        Assert.Contains(MetricNames.JobState, queried);
        Assert.Contains(MetricNames.Straggler, queried);
        Assert.Contains(MetricNames.CheckpointStall + "_bucket", queried);
        Assert.Contains(MetricNames.PeakMemory, queried);
        Assert.Contains(MetricNames.DataFetched, queried);
    }

    [Fact]
    public void Dashboard_EveryPanelQuery_FiltersByTheJobVariable()
    {
        var panelQueries = Expressions().Where(e => !e.StartsWith("label_values", StringComparison.Ordinal));

        Assert.All(panelQueries, e => Assert.Contains("cmm_job=~\"$job\"", e, StringComparison.Ordinal));
    }

    /// <summary>Drops {…} (label names and values are not metric names) and [ranges].</summary>
    private static string StripLabelMatchers(string expr) => Braces().Replace(expr, " ");

    [GeneratedRegex(@"\{[^}]*\}|\[[^\]]*\]|""[^""]*""")]
    private static partial Regex Braces();

    /// <summary>Identifiers not followed by '(' (functions) — then filtered against PromQL's keywords.</summary>
    [GeneratedRegex(@"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()")]
    private static partial Regex MetricReference();

    private static readonly HashSet<string> PromQlWords = new(StringComparer.Ordinal)
    {
        // Aggregations may be followed by "by (...)" rather than "(", so the regex cannot tell them apart.
        "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
        "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
        "le", "task", "stream", "rank", "state", "modality", "memory", "instance", "cmm_job", "component",
    };
}
