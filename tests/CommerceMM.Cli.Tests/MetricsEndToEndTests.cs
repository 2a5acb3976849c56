using System.Globalization;
using System.Text.RegularExpressions;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// Issue 7's "done when": a real Prometheus, configured by the shipped cluster/prometheus/prometheus.yml, scrapes a live
/// `cmm train --metrics` job, and what its query API returns equals what the workers reported at the same step.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class MetricsEndToEndTests(SmallCorpus corpus) : IDisposable
{
    private const string Job = "e2e-metrics";
    private const int Steps = 60;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    [Fact]
    public async Task TrainWithMetrics_PrometheusScrapesTheLiveJob_All14TaskLossesPerRankEqualWhatThatWorkerReportedAtTheScrapedStep()
    {
        await using var prometheus = await StartShippedPrometheusAsync();
        string targets = Path.Combine(prometheus.Directory, "targets", Job + ".json");

        using var cmm = new CmmProcess(
            "train", "--workers", "2", "--metrics", "--prometheus-targets", targets, "--log-level", "debug",
            "--set", $"job.name={Job}", "--set", $"job.max_steps={Steps}", "--set", "job.log_every=20",
            "--set", $"data.dir={corpus.Directory}", "--set", "data.batch_size=8", "--set", "optimizer.warmup_steps=2",
            "--set", "checkpoint.every=1000", "--set", $"checkpoint.store=file:{_runs}", "--set", "model.prototypes=32");
        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);

        // What each worker reported: its heartbeat of every step, as the coordinator logged it (round-trip values).
        var reported = ReportedLosses(cmm.Output);
        Assert.True(reported.Keys.Select(k => k.Rank).Distinct().Count() == 2, $"expected heartbeats of ranks 0 and 1 in the output:\n{cmm.Output}");
        // The job is over and its targets are gone; raw samples over a range are still there, each with its scrape time.
        var steps = await prometheus.QuerySamplesAsync("cmm_step{component=\"worker\"}[10m]");
        var losses = await prometheus.QuerySamplesAsync("cmm_task_loss{component=\"worker\"}[10m]");
        string context = $"{prometheus.StderrTail()}\n{cmm.Output}";

        // The coordinator's fleet view was scraped from the same file: both workers active at some scrape.
        var active = await prometheus.QuerySamplesAsync("cmm_workers{component=\"coordinator\",state=\"active\"}[10m]");
        Assert.True(active.SelectMany(s => s.Samples).Any(s => s.Value == "2"), $"the coordinator never showed 2 active workers\n{context}");

        await AssertEveryDashboardPanelEvaluatesAsync(prometheus, steps, context);

        foreach (string rank in new[] { "0", "1" })
        {
            var scrapes = steps.Where(s => s.Labels["rank"] == rank).SelectMany(s => s.Samples)
                .Select(s => (s.TimestampMs, Step: long.Parse(s.Value, CultureInfo.InvariantCulture))).ToList();
            var series = losses.Where(s => s.Labels["rank"] == rank).ToList();
            // More than 14 means rank {rank} was served from more than one endpoint (a membership change): name them.
            Assert.True(series.Count == 14, $"rank {rank}: {series.Count} cmm_task_loss series, expected 14, from instances {string.Join(", ", series.Select(s => s.Labels.GetValueOrDefault("instance", "?")).Distinct())}\n{context}");
            Assert.True(scrapes.Select(s => s.Step).Distinct().Count() >= 3, $"rank {rank}: scraped at steps {string.Join(", ", scrapes.Select(s => s.Step))}; wanted several scrapes of a live job\n{context}");
            foreach (var (timestamp, step) in scrapes)
            {
                foreach (var (labels, samples) in series)
                {
                    string task = labels["task"];
                    var scraped = samples.Where(s => s.TimestampMs == timestamp).Select(s => PrometheusServer.ParseValue(s.Value)).ToList();
                    Assert.True(scraped.Count == 1, $"rank {rank} scrape at {timestamp} (step {step}) has no cmm_task_loss{{task=\"{task}\"}} sample\n{context}");
                    double expected = LastReported(reported, int.Parse(rank, CultureInfo.InvariantCulture), step, task)
                        ?? throw new Xunit.Sdk.XunitException($"rank {rank} never reported task {task} by step {step}");
                    Assert.True(expected.Equals(scraped[0]),
                        $"rank {rank} step {step} task {task}: Prometheus has {scraped[0]:R}, the worker reported {expected:R}");
                }
            }
        }
    }

    /// <summary>
    /// Every query of the shipped Grafana dashboard, with its variables filled in as Grafana would, parses and evaluates
    /// against the live job halfway through it; the panels a CommerceMM job without checkpoints feeds show data (their
    /// metric and label names match what the job exports, not only the names the library declares).
    /// </summary>
    private static async Task AssertEveryDashboardPanelEvaluatesAsync(PrometheusServer prometheus,
        IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(long TimestampMs, string Value)> Samples)> steps, string context)
    {
        string[] silentHere = ["SCALE: mean harmonized weight per modality", "Last committed checkpoint age", "Last committed step", "Checkpoint save time (p95)",
            "Checkpoint write rate", "Checkpoint stall (p95): training waits for a save", "Steps skipped (NaN/Inf)", "Straggler flags", "Step compute time vs peers (ratio)"];
        var times = steps.SelectMany(s => s.Samples).Select(s => s.TimestampMs).Order().ToList();
        double halfway = times[times.Count / 2] / 1000.0;
        string dashboard = Path.Combine(RepoRoot(), "cluster", "grafana", "commercemm-training.json");
        foreach (var (panel, expr) in GrafanaDashboard.PanelQueries(dashboard))
        {
            string promql = expr.Replace("$job", Job, StringComparison.Ordinal).Replace("$__rate_interval", "5s", StringComparison.Ordinal);
            var result = await prometheus.QueryResultAsync(promql, halfway);
            if (!silentHere.Contains(panel))
                Assert.True(result.GetArrayLength() > 0, $"dashboard panel '{panel}' shows no data for the live job: {promql}\n{context}");
        }
    }

    /// <summary>The shipped local config, scraping every second, with the alert rules and targets folder it names beside it.</summary>
    private static Task<PrometheusServer> StartShippedPrometheusAsync()
    {
        string cluster = Path.Combine(RepoRoot(), "cluster", "prometheus");
        string config = File.ReadAllText(Path.Combine(cluster, "prometheus.yml"));
        Assert.Contains("scrape_interval: 15s", config, StringComparison.Ordinal);
        config = config.Replace("scrape_interval: 15s", "scrape_interval: 1s\n  scrape_timeout: 1s", StringComparison.Ordinal);
        return PrometheusServer.StartAsync(config, TimeSpan.FromSeconds(60),
            new Dictionary<string, string>
            {
                ["alerts.yml"] = File.ReadAllText(Path.Combine(cluster, "alerts.yml")),
                // The shipped, empty targets folder: Prometheus watches it from the start, so new targets show at once.
                ["targets/.gitignore"] = File.ReadAllText(Path.Combine(cluster, "targets", ".gitignore")),
            });
    }

    /// <summary>
    /// The loss of <paramref name="task"/> as the gauge holds it after <paramref name="step"/>: from the last step up to it
    /// where the task ran (a task that did not run leaves its series at its last real value).
    /// </summary>
    private static double? LastReported(Dictionary<(int Rank, long Step), Dictionary<string, double>> reported, int rank, long step, string task) =>
        reported.Where(r => r.Key.Rank == rank && r.Key.Step <= step && r.Value.ContainsKey(task))
            .OrderByDescending(r => r.Key.Step).Select(r => (double?)r.Value[task]).FirstOrDefault();

    private static Dictionary<(int Rank, long Step), Dictionary<string, double>> ReportedLosses(string output)
    {
        var reported = new Dictionary<(int, long), Dictionary<string, double>>();
        foreach (Match m in ReportedLine().Matches(output))
        {
            reported[(int.Parse(m.Groups["rank"].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups["step"].Value, CultureInfo.InvariantCulture))] =
                m.Groups["losses"].Value.Split(';').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        }
        return reported;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No CommerceMM.Distributed.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"rank (?<rank>\d+) reported step (?<step>\d+) \(generation \d+\) losses (?<losses>\S+)")]
    private static partial Regex ReportedLine();

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
