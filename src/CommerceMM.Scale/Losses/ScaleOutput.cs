using CommerceMM.Model.Tasks;
using CommerceMM.Scale.Config;
using CommerceMM.Torch;

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
    private readonly List<TaskResult> _results = [];
    private readonly List<HarmonizedWeight> _weights = [];
    private readonly Dictionary<string, Tensor> _losses = [];

    public Tensor? Total { get; private set; }
    public IReadOnlyList<TaskResult> Results => _results;
    public IReadOnlyList<HarmonizedWeight> Weights => _weights;
    public IReadOnlyDictionary<string, Tensor> Losses => _losses;

    /// <summary>(B, 5, 5) harmonized weights of this batch, cut from the graph.</summary>
    public Tensor? WeightMatrix { get; private set; }

    public TaskResult this[string task] => _results.Single(r => r.Task == task);

    internal void SetWeights(Tensor matrix, bool[,] presence, IReadOnlyList<ScaleModality> enabled)
    {
        WeightMatrix = DisposeScope.Detach(matrix.Detach());
        double[] w;
        using (var f = WeightMatrix.To(DType.Float64)) w = f.ToArray<double>();
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

    /// <summary>Runs a task unless its weight is 0; a null loss means no eligible row (absent).</summary>
    internal void Add(string task, double weight, Func<Tensor?> compute)
    {
        if (weight == 0)
        {
            _results.Add(TaskResult.Disabled(task));
            return;
        }
        var loss = compute();
        if (loss is null)
        {
            _results.Add(TaskResult.Absent(task, weight));
            return;
        }
        DisposeScope.Detach(loss);
        _losses[task] = loss;
        _results.Add(new TaskResult(task, TaskOutcome.Ok, loss.Item(), weight));
        using var weighted = loss * weight;
        var total = Total is null ? weighted.Clone() : Total + weighted;
        Total?.Dispose();
        Total = DisposeScope.Detach(total);
    }

    public void Dispose()
    {
        Total?.Dispose();
        WeightMatrix?.Dispose();
        foreach (var t in _losses.Values) t.Dispose();
    }
}
