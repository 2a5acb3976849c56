using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Collection;

public sealed class MetricsPipelineTests
{
    [Fact]
    public void Scrape_AfterRecordingEverything_ExportsEveryArchitectureMetricWithItsType()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything();

        var types = Support.Exposition.Types(recorders.Pipeline.Scrape());

        var expected = new Dictionary<string, string>
        {
            [MetricNames.Step] = "gauge",
            [MetricNames.TaskLoss] = "gauge",
            [MetricNames.TaskLossWeight] = "gauge",
            [MetricNames.ModalityWeight] = "gauge",
            [MetricNames.StepDuration] = "histogram",
            [MetricNames.DataWait] = "histogram",
            [MetricNames.DataFetched] = "counter",
            [MetricNames.AllReduce] = "histogram",
            [MetricNames.Samples] = "counter",
            [MetricNames.Tokens] = "counter",
            [MetricNames.SamplesSkipped] = "counter",
            [MetricNames.GradNorm] = "gauge",
            [MetricNames.LearningRate] = "gauge",
            [MetricNames.SkippedSteps] = "counter",
            [MetricNames.CheckpointSave] = "histogram",
            [MetricNames.CheckpointStall] = "histogram",
            [MetricNames.PeakMemory] = "gauge",
            [MetricNames.MemoryLimit] = "gauge",
            [MetricNames.CheckpointBytes] = "counter",
            [MetricNames.CheckpointLastCommittedStep] = "gauge",
            [MetricNames.CheckpointAge] = "gauge",
            [MetricNames.JobState] = "gauge",
            [MetricNames.Workers] = "gauge",
            [MetricNames.WorkersExpected] = "gauge",
            [MetricNames.Generation] = "gauge",
            [MetricNames.Restarts] = "counter",
            [MetricNames.HeartbeatAge] = "gauge",
            [MetricNames.StepTimeRatio] = "gauge",
            [MetricNames.Straggler] = "gauge",
        };
        Assert.Equal(expected.OrderBy(p => p.Key), types.OrderBy(p => p.Key));
    }

    [Fact]
    public void Scrape_AfterRecordingEverything_AddsNoOpenTelemetryNamesOrLabels()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything();

        var text = recorders.Pipeline.Scrape();

        // The exporter's defaults would add these: unit and _total suffixes, target_info, otel_scope_* labels.
        Assert.DoesNotContain("target_info", text, StringComparison.Ordinal);
        Assert.DoesNotContain("otel_scope", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_seconds_seconds", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_total_total", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_bytes_total_bytes", text, StringComparison.Ordinal);
        Assert.All(Support.Exposition.Samples(text), s => Assert.StartsWith("cmm_", s.Name, StringComparison.Ordinal));
    }

    [Fact]
    public void Scrape_RightAfterAnotherWithARecordingBetween_ShowsTheNewValue()
    {
        // The exporter caches a response for 300 ms by default; ours collects on every scrape.
        using var recorders = new Recorders();
        recorders.Training.RecordTaskLoss(TrainingTasks.Itc, 1);
        var first = Support.Exposition.Samples(recorders.Pipeline.Scrape());

        recorders.Training.RecordTaskLoss(TrainingTasks.Itc, 2);
        var second = Support.Exposition.Samples(recorders.Pipeline.Scrape());

        Assert.Equal(1, first.Single(s => s.Name == MetricNames.TaskLoss).Value);
        Assert.Equal(2, second.Single(s => s.Name == MetricNames.TaskLoss).Value);
    }

    [Fact]
    public void Create_NegativeScrapeCacheDuration_ThrowsNamingTheOption()
    {
        var options = new MetricsOptions { ScrapeCacheDuration = TimeSpan.FromSeconds(-1) };

        var error = Assert.Throws<ArgumentException>(() => MetricsPipeline.Create(options));

        Assert.Contains(nameof(MetricsOptions.ScrapeCacheDuration), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scrape_TaskLosses_HasASeriesPerTaskOfBothModelsWithTheRecordedValues()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything();

        var losses = Support.Exposition.Samples(recorders.Pipeline.Scrape())
            .Where(s => s.Name == MetricNames.TaskLoss)
            .ToDictionary(s => s.Labels, s => s.Value);

        Assert.Equal(TrainingTasks.All.Count, losses.Count);
        for (var i = 0; i < TrainingTasks.All.Count; i++)
        {
            Assert.Equal(Recorders.LossOf(i), losses[$"task=\"{TrainingTasks.All[i]}\""]);
        }
    }

    [Fact]
    public void Scrape_StepHistogram_UsesSecondBucketsAndCumulativeCounts()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything();
        recorders.RecordEverything(step: 43);

        var samples = Support.Exposition.Samples(recorders.Pipeline.Scrape());

        var buckets = samples.Where(s => s.Name == MetricNames.StepDuration + "_bucket").ToList();
        // Two steps of 0.12 s: nothing at or below 0.1 s, both at or below 0.25 s.
        Assert.Equal(0, buckets.Single(b => b.Labels == "le=\"0.1\"").Value);
        Assert.Equal(2, buckets.Single(b => b.Labels == "le=\"0.25\"").Value);
        Assert.Equal(2, buckets.Single(b => b.Labels == "le=\"+Inf\"").Value);
        Assert.Equal(2, samples.Single(s => s.Name == MetricNames.StepDuration + "_count").Value);
        Assert.Equal(0.24, samples.Single(s => s.Name == MetricNames.StepDuration + "_sum").Value, 12);
    }

    [Fact]
    public void Scrape_CountersAcrossSteps_Accumulate()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything(step: 1);
        recorders.RecordEverything(step: 2);

        var samples = Support.Exposition.Samples(recorders.Pipeline.Scrape());

        Assert.Equal(64, samples.Single(s => s.Name == MetricNames.Samples && s.Labels == "stream=\"pairs\"").Value);
        Assert.Equal(1536, samples.Single(s => s.Name == MetricNames.Tokens).Value);
        Assert.Equal(2, samples.Single(s => s.Name == MetricNames.Step).Value);
    }

    [Fact]
    public async Task Scrape_FullOutput_PassesPromtoolCheckMetrics()
    {
        using var recorders = new Recorders();
        recorders.RecordEverything();

        var result = await Tool.RunAsync(Tool.Promtool, ["check", "metrics"], stdin: recorders.Pipeline.Scrape());

        // promtool prints lint findings (missing HELP, counters without _total, unit names...) and exits non-zero.
        Assert.True(result.ExitCode == 0, $"promtool check metrics failed ({result.ExitCode}):\n{result.Output}");
    }

    [Fact]
    public void Create_NoMeterNames_ThrowsNamingTheOption()
    {
        var options = new MetricsOptions();
        options.MeterNames.Clear();

        var error = Assert.Throws<ArgumentException>(() => MetricsPipeline.Create(options));

        Assert.Contains(nameof(MetricsOptions.MeterNames), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WithOtlpEnabled_StillServesScrapes()
    {
        // Nothing listens on the endpoint; the OTLP exporter pushes in the background and must not
        // disturb the pull path.
        var options = new MetricsOptions { EnableOtlp = true, OtlpEndpoint = new Uri("http://127.0.0.1:9") };
        options.MeterNames.Clear();
        options.MeterNames.Add("CommerceMM.test.otlp." + Guid.NewGuid().ToString("N"));
        using var meter = new System.Diagnostics.Metrics.Meter(options.MeterNames[0]);
        var counter = meter.CreateCounter<long>("cmm_otlp_probe_total", null, "Probe.");
        using var pipeline = MetricsPipeline.Create(options);

        counter.Add(3);

        Assert.Equal(3, Support.Exposition.Samples(pipeline.Scrape()).Single(s => s.Name == "cmm_otlp_probe_total").Value);
    }
}
