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
}
