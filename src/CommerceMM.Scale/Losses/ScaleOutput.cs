using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Scale.Config;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Losses;

/// <summary>A modality's mean self-harmonized weight W[m, m] over the rows having it, like a task: ok, absent (no row has it) or disabled.</summary>
public sealed record HarmonizedWeight(ScaleModality Modality, TaskOutcome Status, double Mean);

/// <summary>
/// What one SCALE forward produced: the weighted total to back-propagate (null when no task ran), the 15
/// tasks' results (CommerceMM's <see cref="TaskResult"/>), the 5 mean harmonized weights, the unweighted
/// loss tensors by task and the (B, 5, 5) weights, detached, for tests. Owns its tensors.
/// </summary>
public sealed class ScaleOutput : IDisposable
{
    private readonly WeightedTaskLosses _tasks = new();
    private readonly List<HarmonizedWeight> _weights = [];

    public Tensor? Total => _tasks.Total;
    public IReadOnlyList<TaskResult> Results => _tasks.Results;
    public IReadOnlyList<HarmonizedWeight> Weights => _weights;
    public IReadOnlyDictionary<string, Tensor> Losses => _tasks.Losses;

    /// <summary>(B, 5, 5) harmonized weights of this batch, cut from the graph.</summary>
    public Tensor? WeightMatrix { get; private set; }

    public TaskResult this[string task] => _tasks.Results.Single(r => r.Task == task);

    internal void SetWeights(Tensor matrix, bool[,] presence, IReadOnlyList<ScaleModality> enabled)
    {
        WeightMatrix = matrix.detach().DetachFromDisposeScope();
        double[] w;
        using (var f = WeightMatrix.to(ScalarType.Float64)) w = Scalars.ToArray<double>(f);
        int rows = presence.GetLength(0), k = ScaleModalities.Count;
        foreach (var m in ScaleModalities.All)
        {
            int i = (int)m;
            var diag = Enumerable.Range(0, rows).Where(r => presence[r, i]).Select(r => w[r * k * k + i * k + i]).ToList();
            _weights.Add(!enabled.Contains(m) ? new HarmonizedWeight(m, TaskOutcome.Disabled, double.NaN)
                : diag.Count == 0 ? new HarmonizedWeight(m, TaskOutcome.Absent, double.NaN)
                : new HarmonizedWeight(m, TaskOutcome.Ok, diag.Average()));
        }
    }

    internal void Add(string task, double weight, Func<Tensor?> compute) => _tasks.Add(task, weight, compute);

    public void Dispose()
    {
        _tasks.Dispose();
        WeightMatrix?.Dispose();
    }
}
