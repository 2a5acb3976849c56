using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Tests.Support;
using CommerceMM.Observability.Worker;

namespace CommerceMM.Observability.Tests.Worker;

public sealed class TrainingMetricsTests
{
    [Fact]
    public void RecordTaskLoss_UnknownTask_ThrowsAndCreatesNoSeries()
    {
        using var recorders = new Recorders();

        var error = Assert.Throws<ArgumentException>(() => recorders.Training.RecordTaskLoss("itc2", 1));

        Assert.Contains(TrainingTasks.OmniM2M, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("itc2", recorders.Pipeline.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public void AddSamples_UnknownStream_Throws()
    {
        using var recorders = new Recorders();

        Assert.Throws<ArgumentException>(() => recorders.Training.AddSamples("shard-000001.tar", 1));
    }

    [Fact]
    public void RecordStep_AbsentTask_KeepsItsLastValue()
    {
        using var recorders = new Recorders();
        recorders.Training.RecordStep(new StepReport
        {
            Step = 1, Duration = TimeSpan.FromSeconds(1),
            TaskLosses = new Dictionary<string, double> { [TrainingTasks.OmniT2T] = 4.5, [TrainingTasks.Itc] = 2 },
        });

        recorders.Training.RecordStep(new StepReport
        {
            Step = 2, Duration = TimeSpan.FromSeconds(1),
            TaskLosses = new Dictionary<string, double> { [TrainingTasks.Itc] = 1.75 },
        });

        var losses = Support.Exposition.Samples(recorders.Pipeline.Scrape()).Where(s => s.Name == MetricNames.TaskLoss).ToDictionary(s => s.Labels, s => s.Value);
        Assert.Equal(4.5, losses["task=\"omni_t2t\""]);
        Assert.Equal(1.75, losses["task=\"itc\""]);
    }

    [Fact]
    public void RecordTaskLoss_NaNAndInfinity_AreExportedAsSuch()
    {
        using var recorders = new Recorders();

        recorders.Training.RecordTaskLoss(TrainingTasks.Mlm, double.NaN);
        recorders.Training.RecordTaskLoss(TrainingTasks.Itm, double.PositiveInfinity);
        var text = recorders.Pipeline.Scrape();

        Assert.Contains("cmm_task_loss{task=\"mlm\"} NaN\n", text, StringComparison.Ordinal);
        Assert.Contains("cmm_task_loss{task=\"itm\"} +Inf\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainingTasks_CommerceMM_IsTheFourteenDistinctModelTaskIds()
    {
        Assert.Equal(14, TrainingTasks.CommerceMM.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(5, TrainingTasks.CommerceMM.Count(t => !t.StartsWith("omni_", StringComparison.Ordinal)));
        var omni = from s in "tvm" from t in "tvm" select $"omni_{s}2{t}";
        Assert.Equal(omni.Order(), TrainingTasks.CommerceMM.Where(t => t.StartsWith("omni_", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public void TrainingTasks_Scale_IsFiveMaskedAndTenPairTasks_DisjointFromCommerceMM()
    {
        Assert.Equal(["masked_image", "masked_text", "masked_table", "masked_video", "masked_audio"], TrainingTasks.Scale.Take(5));
        Assert.Equal(10, TrainingTasks.Scale.Count(t => t.StartsWith("pair_", StringComparison.Ordinal)));
        Assert.Contains("pair_image_text", TrainingTasks.Scale);
        Assert.Contains("pair_video_audio", TrainingTasks.Scale);
        Assert.Equal(29, TrainingTasks.All.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void RecordStep_ModalityWeightAndProductSamples_AreExported()
    {
        using var recorders = new Recorders();
        recorders.Training.RecordStep(new StepReport
        {
            Step = 3,
            Duration = TimeSpan.FromSeconds(0.5),
            Samples = new Dictionary<string, long> { [SampleStreams.Products] = 32 },
            ModalityWeights = new Dictionary<string, double> { ["audio"] = 0.25 },
        });
        var samples = Support.Exposition.Samples(recorders.Pipeline.Scrape()).ToList();
        Assert.Equal(0.25, samples.Single(s => s.Name == MetricNames.ModalityWeight && s.Labels == "modality=\"audio\"").Value);
        Assert.Equal(32, samples.Single(s => s.Name == MetricNames.Samples && s.Labels == "stream=\"products\"").Value);
        Assert.Throws<ArgumentException>(() => recorders.Training.RecordStep(new StepReport
        {
            Step = 4, Duration = TimeSpan.FromSeconds(0.5), ModalityWeights = new Dictionary<string, double> { ["smell"] = 1 },
        }));
    }
}
