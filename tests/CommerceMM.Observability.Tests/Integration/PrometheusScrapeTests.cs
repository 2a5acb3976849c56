using System.Globalization;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Integration;

/// <summary>Issue 7's "done when": a real Prometheus scrapes our /metrics and returns what the worker recorded.</summary>
public sealed class PrometheusScrapeTests(ScrapedJobFixture job) : IClassFixture<ScrapedJobFixture>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Query_TaskLoss_ReturnsASeriesPerTaskWithTheRecordedValues()
    {
        var result = await job.Prometheus.PollAsync(MetricNames.TaskLoss, r => r.Count == TrainingTasks.All.Count, Within);

        Assert.True(result.Count == TrainingTasks.All.Count, $"Prometheus returned {result.Count} cmm_task_loss series.\n{job.Prometheus.StderrTail()}");
        var byTask = result.ToDictionary(r => r.Labels[LabelNames.Task], r => double.Parse(r.Value, CultureInfo.InvariantCulture));
        for (var i = 0; i < TrainingTasks.All.Count; i++)
        {
            Assert.Equal(Recorders.LossOf(i), byTask[TrainingTasks.All[i]]);
        }
        Assert.All(result, r => Assert.Equal("integration", r.Labels["cmm_job"]));
    }

    [Fact]
    public async Task Query_Step_ReturnsTheStepTheLossesBelongTo()
    {
        var result = await job.Prometheus.PollAsync(MetricNames.Step, r => r.Count == 1, Within);

        Assert.Equal(ScrapedJobFixture.Step.ToString(CultureInfo.InvariantCulture), Assert.Single(result).Value);
    }

    [Fact]
    public async Task Query_HistogramQuantile_ReadsOurBuckets()
    {
        // One 0.12 s step: the median falls inside the (0.1, 0.25] bucket.
        var result = await job.Prometheus.PollAsync(
            $"histogram_quantile(0.5, {MetricNames.StepDuration}_bucket)", r => r.Count == 1, Within);

        Assert.InRange(double.Parse(Assert.Single(result).Value, CultureInfo.InvariantCulture), 0.1, 0.25);
    }

    [Fact]
    public async Task Query_Up_TargetIsHealthy()
    {
        var result = await job.Prometheus.PollAsync("up", r => r.Count == 1 && r[0].Value == "1", Within);

        Assert.Equal("1", Assert.Single(result).Value);
    }

    [Fact]
    public async Task Get_Metrics_ServesTextFormat004()
    {
        using var http = new HttpClient();

        using var response = await http.GetAsync(job.Server.MetricsUri);

        response.EnsureSuccessStatusCode();
        Assert.Equal(MetricsPipeline.ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Contains("# TYPE cmm_task_loss gauge\n", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Metrics_AskedAsPrometheusAsks_StillServesUncompressedTextFormat004()
    {
        // Prometheus 2.42's scrape headers: OpenMetrics first (which promtool cannot check), and gzip.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, job.Server.MetricsUri);
        request.Headers.TryAddWithoutValidation("Accept",
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        request.Headers.TryAddWithoutValidation("X-Prometheus-Scrape-Timeout-Seconds", "1");

        using var response = await http.SendAsync(request);

        response.EnsureSuccessStatusCode();
        Assert.Equal(MetricsPipeline.ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Empty(response.Content.Headers.ContentEncoding);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("# EOF", text, StringComparison.Ordinal);
        var check = await Tool.RunAsync(Tool.Promtool, ["check", "metrics"], stdin: text);
        Assert.True(check.ExitCode == 0, $"promtool check metrics failed ({check.ExitCode}):\n{check.Output}");
    }
}
