
namespace CommerceMM.Cli.Tests;

/// <summary>
/// 2 workers × B/2 rows and 1 worker × B rows see the same samples with the same masks (masks follow
/// the sample) and must end with the same weights. ITM is off: it draws negatives from the local batch.
/// The contrastive tasks stay on: they are where a wrong all-gather gradient would show.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class EquivalenceEndToEndTests(SmallCorpus corpus) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);
    private readonly string _runs = Directory.CreateTempSubdirectory("cmm-e2e-runs-").FullName;

    private readonly Dictionary<string, string> _logs = [];

    private async Task<Dictionary<string, float[]>> TrainAsync(string job, int workers, int batch, int steps)
    {
        string spec = Path.Combine(_runs, job + ".yaml");
        File.WriteAllText(spec, "model:\n  preset: tiny\n  task_weights: {itm: 0}\n");
        using (var cmm = new CmmProcess(["train", spec, "--workers", workers.ToString(), .. TrainingArgs.Overrides(job, corpus.Directory, _runs, steps, batch, every: 100)]))
        {
            Assert.True(cmm.WaitForExit(Patience) == 0, cmm.Output);
            _logs[job] = cmm.Output;
        }
        return await CommittedWeights.ReadAsync(_runs, job, steps);
    }

    [Fact]
    public async Task TwoWorkersHalfBatch_EndWithOneWorkerFullBatchWeights()
    {
        const int steps = 6;
        var single = await TrainAsync("e2e-eq-1", workers: 1, batch: 8, steps);
        var pair = await TrainAsync("e2e-eq-2", workers: 2, batch: 4, steps);
        // The step-0 gradient norms agree to every digit logged; the weights within CommittedWeights' tolerance.
        Assert.Null(CommittedWeights.WorstMismatch(single, pair, steps));
        Assert.Equal(GradNorms(_logs["e2e-eq-1"]), GradNorms(_logs["e2e-eq-2"]));
    }

    /// <summary>Rank 0's logged global gradient norm at step 0 ("grad 162.913"); later steps may differ in the last digit.</summary>
    private static List<string> GradNorms(string log) =>
        log.Split('\n').Where(l => l.Contains("rank=0 ", StringComparison.Ordinal) && l.Contains(" grad ", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(" grad ", StringComparison.Ordinal) + 6)..].Split(' ')[0]).Take(1).ToList();

    public void Dispose() => Directory.Delete(_runs, recursive: true);
}
