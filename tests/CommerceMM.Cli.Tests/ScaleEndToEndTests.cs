using CommerceMM.Data.Fashion;
using CommerceMM.Data.Scale;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// SCALE through the same `cmm train` as CommerceMM (issue 9): two real worker processes, Gloo, file
/// checkpoints with per-stream positions, preemption and restore, then `cmm eval`'s SCALE table.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ScaleEndToEndTests(SmallScaleCorpus corpus) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private const string JobFile = "cluster/jobs/fashion-scale-tiny.yaml";
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-scale-runs-").FullName;

    private string[] Overrides(string job, int steps, int batch = 6) =>
    [
        "--set", $"job.name={job}", "--set", $"job.max_steps={steps}", "--set", "job.log_every=1",
        "--set", $"data.dir={corpus.Directory}", "--set", $"data.batch_size={batch}",
        "--set", "optimizer.warmup_steps=2", "--set", "checkpoint.every=100", "--set", $"checkpoint.store=file:{_runs}",
    ];

    private static string SpecFile => Path.Combine(CmmProcess.RepositoryRoot, JobFile);

    [Fact]
    public async Task TwoWorkers_AStepWhereOneRankHasNoRowForAPairTask_EveryRankStillJoinsThatTasksGathers()
    {
        // Half the products speak (audio), two rows a rank: at some steps both audio rows of the batch sit on one rank, and
        // the other holds none for the audio pairs. That rank skipped the gathers' backward all-reduce, the others' next
        // collective went unmatched, and Gloo aborted the worker at the same step in every generation (found by
        // tools/chaos/run --model scale: step 239, four restarts, a worker dropped).
        string data = Path.Combine(_runs, "data");
        await ScaleDatasetBuilder.BuildAsync(new ScaleDatasetOptions
        {
            Catalog = new FashionDatasetOptions { OutputDirectory = data, TrainLimit = 200, EvalLimit = 40, VocabSize = 300 },
            AudioLimit = 100,
        });
        using var cmm = new CmmProcess(["train", SpecFile, "--workers", "2", .. Overrides("e2e-scale-sparse", steps: 40, batch: 2), "--set", $"data.dir={data}"]);

        Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        Assert.DoesNotContain("failed collective", cmm.Output);
        Assert.Contains("generation 1, world size 2, restarts 0", cmm.Output);
    }

    [Fact]
    public async Task TrainScale_PreemptedAndRestarted_EndsWithTheUninterruptedRunsWeights_AndEvaluates()
    {
        // Long enough that the SIGTERM checkpoint (ordered a heartbeat's worth of steps ahead) falls before the end even on
        // a loaded machine; with 10 it sometimes fell after it, and the restart had nothing left to train.
        const int steps = 20;
        Dictionary<long, string> straightSteps;
        using (var straight = new CmmProcess(["train", SpecFile, .. Overrides("e2e-scale-straight", steps)]))
        {
            Assert.True(straight.WaitForExit(Patience) == 0, straight.Output);
            Assert.Contains("Completed", straight.Output);
            straightSteps = StepLog.Rank0Figures(straight.Output);
            Assert.Equal(steps, straightSteps.Count);
            // Per-task losses reach the coordinator as CommerceMM's do: the launcher's summary lists SCALE's ids.
            Assert.Contains("rank 0 losses: masked_", straight.Output);
            Assert.Contains(" masked_image ", straight.Output);
            Assert.Contains(" pair_image_text ", straight.Output);
        }
        var expected = await CommittedWeights.ReadAsync(_runs, "e2e-scale-straight", steps);
        Assert.Contains(expected.Keys, k => k.StartsWith("audio.", StringComparison.Ordinal));

        using (var first = new CmmProcess(["train", SpecFile, .. Overrides("e2e-scale-preempted", steps)]))
        {
            Assert.True(first.WaitForLine("step 1 ", Patience), first.Output);
            first.Terminate();
            Assert.True(first.WaitForExit(Patience) == 0, first.Output);
            Assert.Contains("SIGTERM: checkpoint ordered", first.Output);
        }
        using (var second = new CmmProcess(["train", SpecFile, .. Overrides("e2e-scale-preempted", steps)]))
        {
            Assert.True(second.WaitForExit(Patience) == 0, second.Output);
            Assert.Contains("restoring checkpoint step", second.Output);
            var resumedSteps = StepLog.Rank0Figures(second.Output);
            Assert.NotEmpty(resumedSteps);
            foreach (var (step, figures) in resumedSteps) Assert.Equal(straightSteps[step], figures);
        }
        // The same weights to the last bit, the attention key bias included: a resume recomputes exactly what the
        // uninterrupted run did, rounding and all.
        var resumed = await CommittedWeights.ReadAsync(_runs, "e2e-scale-preempted", steps);
        CommittedWeights.AssertIdentical(expected, resumed);

        using var eval = new CmmProcess(["eval", SpecFile, .. Overrides("e2e-scale-straight", steps), "--modalities", "ablation", "--probe-items", "100"]);
        Assert.True(eval.WaitForExit(Patience) == 0, eval.Output);
        foreach (string row in new[] { "| image+text ", "| +table ", "| +video ", "| +audio " }) Assert.Contains(row, eval.Output);
        Assert.Contains("mAP", eval.Output);
    }

    [Fact]
    public async Task TrainScale_TwoWorkersHalfBatch_EndWithOneWorkerFullBatchWeights()
    {
        // Masks follow the sample, masked losses are normalised over every rank's rows and pairs over the
        // gathered batch, so the world size must not matter (the CommerceMM equivalent is EquivalenceEndToEndTests).
        const int steps = 6;
        foreach (var (job, workers, batch) in new[] { ("e2e-scale-eq-1", 1, 8), ("e2e-scale-eq-2", 2, 4) })
        {
            using var cmm = new CmmProcess(["train", SpecFile, "--workers", workers.ToString(), .. Overrides(job, steps, batch)]);
            Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
        }
        var single = await CommittedWeights.ReadAsync(_runs, "e2e-scale-eq-1", steps);
        var pair = await CommittedWeights.ReadAsync(_runs, "e2e-scale-eq-2", steps);
        Assert.Null(CommittedWeights.WorstMismatch(single, pair, steps));
    }

    [Fact]
    public void TrainScale_ModalityListedTwice_FailsNamingModelModalities()
    {
        using var cmm = new CmmProcess(["train", SpecFile, .. Overrides("e2e-scale-bad", 2), "--set", "model.modalities=[image, image]"]);
        Assert.NotEqual(0, cmm.WaitForExit(Patience));
        Assert.Contains("model.modalities", cmm.Output);
    }

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
