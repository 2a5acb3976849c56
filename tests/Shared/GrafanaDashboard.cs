using System.Text.Json;

/// <summary>The PromQL of the shipped Grafana dashboard (<c>cluster/grafana/commercemm-training.json</c>).</summary>
internal static class GrafanaDashboard
{
    /// <summary>Every panel target as (panel title, expression), in panel order.</summary>
    public static List<(string Panel, string Expr)> PanelQueries(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var queries = new List<(string, string)>();
        foreach (var panel in doc.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets)) continue;
            string title = panel.GetProperty("title").GetString()!;
            queries.AddRange(targets.EnumerateArray().Select(t => (title, t.GetProperty("expr").GetString()!)));
        }
        return queries;
    }

    /// <summary>The templating variables' queries (label_values(...)).</summary>
    public static List<string> VariableQueries(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Where(v => v.GetProperty("type").GetString() == "query")
            .Select(v => v.GetProperty("query").GetProperty("query").GetString()!).ToList();
    }
}
