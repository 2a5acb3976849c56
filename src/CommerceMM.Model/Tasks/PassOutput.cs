using CommerceMM.Torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// What one pass produced: the weighted loss to back-propagate (null when no task ran), each task's
/// result, and the unweighted loss tensors by task (for dumps and tests). Owns its tensors.
/// </summary>
public sealed class PassOutput : IDisposable
{
    private readonly List<TaskResult> _results = [];
    private readonly Dictionary<string, Tensor> _losses = [];

    public Tensor? Total { get; private set; }
    public IReadOnlyList<TaskResult> Results => _results;
    public IReadOnlyDictionary<string, Tensor> Losses => _losses;

    /// <summary>Random choices made during the pass (e.g. ITM hard negatives), by name, for step dumps.</summary>
    public IReadOnlyDictionary<string, Tensor> Choices => _choices;

    private readonly Dictionary<string, Tensor> _choices = [];

    internal void Record(string name, Tensor choice) => _choices[name] = DisposeScope.Detach(choice.Clone());

    /// <summary>The mim_kl centre estimate of this batch (mean teacher prototype scores), when mim_kl ran.</summary>
    public Tensor? BatchCenter { get; internal set; }

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
        BatchCenter?.Dispose();
        foreach (var t in _losses.Values) t.Dispose();
        foreach (var t in _choices.Values) t.Dispose();
    }
}
