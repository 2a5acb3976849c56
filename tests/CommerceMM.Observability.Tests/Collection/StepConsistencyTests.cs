using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Tests.Support;
using CommerceMM.Observability.Worker;

namespace CommerceMM.Observability.Tests.Collection;

/// <summary>A scrape taken while steps are being recorded never mixes two steps' figures.</summary>
public sealed class StepConsistencyTests
{
    [Fact]
    public async Task Scrape_WhileRecordingSteps_LossesAlwaysBelongToTheScrapedStep()
    {
        using var recorders = new Recorders();
        using var stop = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        // Each step's 14 losses all equal the step number, so a scrape is consistent when they equal cmm_step.
        var recording = Task.Run(() =>
        {
            for (long step = 1; !stop.IsCancellationRequested; step++)
            {
                recorders.Training.RecordStep(new StepReport
                {
                    Step = step,
                    Duration = TimeSpan.FromMilliseconds(1),
                    TaskLosses = TrainingTasks.All.ToDictionary(t => t, _ => (double)step),
                });
                started.Set();
            }
        });

        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the recording thread never started");
        var inconsistent = new List<string>();
        var steps = new HashSet<double>();
        for (int scrape = 0; scrape < 200; scrape++)
        {
            var samples = Support.Exposition.Samples(recorders.Pipeline.Scrape());
            var step = samples.SingleOrDefault(s => s.Name == MetricNames.Step);
            if (step is null) continue;
            steps.Add(step.Value);
            inconsistent.AddRange(samples.Where(s => s.Name == MetricNames.TaskLoss && s.Value != step.Value)
                .Select(s => $"step {step.Value}: {s.Labels} = {s.Value}"));
        }
        await stop.CancelAsync();
        await recording;

        Assert.Empty(inconsistent);
        Assert.True(steps.Count > 3, $"only {steps.Count} distinct steps were scraped; the test did not race recording against scraping");
    }

    [Fact]
    public void RecordStep_WhileAScrapeIsInFlight_IsAppliedWhenItEnds()
    {
        using var recorders = new Recorders();
        var gate = StepConsistency.For(recorders.Training.MeterName);
        recorders.Training.RecordStep(Step(1));

        gate.BeginScrape();
        recorders.Training.RecordStep(Step(2));
        var during = Support.Exposition.Samples(recorders.Pipeline.Scrape());
        gate.EndScrape();
        var after = Support.Exposition.Samples(recorders.Pipeline.Scrape());

        Assert.Equal(1, during.Single(s => s.Name == MetricNames.Step).Value);
        Assert.All(during.Where(s => s.Name == MetricNames.TaskLoss), s => Assert.Equal(1, s.Value));
        Assert.Equal(2, after.Single(s => s.Name == MetricNames.Step).Value);
        Assert.All(after.Where(s => s.Name == MetricNames.TaskLoss), s => Assert.Equal(2, s.Value));
        Assert.Equal(0, gate.QueuedCount);
    }

    [Fact]
    public async Task Record_QueueFullBehindAScrape_WaitsForTheScrapeThenAppliesInOrder()
    {
        var gate = StepConsistency.For($"test.gate.{Guid.NewGuid():N}");
        var applied = new List<int>();
        gate.BeginScrape();
        for (var i = 0; i < StepConsistency.MaxQueued; i++)
        {
            var n = i;
            gate.Record(() => applied.Add(n));
        }

        var overflow = Task.Run(() => gate.Record(() => applied.Add(StepConsistency.MaxQueued)));
        // Not a timing assertion: the recorder must still be waiting whatever the delay, since the scrape has not ended.
        await Task.Delay(200);
        Assert.False(overflow.IsCompleted);
        Assert.Empty(applied);
        gate.EndScrape();
        await overflow.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Enumerable.Range(0, StepConsistency.MaxQueued + 1), applied);
    }

    [Fact]
    public void EndScrape_WithoutBegin_Throws()
    {
        var gate = StepConsistency.For($"test.gate.{Guid.NewGuid():N}");

        Assert.Throws<InvalidOperationException>(gate.EndScrape);
    }

    private static StepReport Step(long step) => new()
    {
        Step = step,
        Duration = TimeSpan.FromMilliseconds(1),
        TaskLosses = TrainingTasks.All.ToDictionary(t => t, _ => (double)step),
    };
}
