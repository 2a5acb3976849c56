using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Runs tasks and sums their weighted losses into the one tensor a pass back-propagates. A weight of 0
/// skips the task's compute (disabled); a null loss means no eligible rows (absent, never 0). Shared by
/// CommerceMM's passes and SCALE's, so both report tasks alike. Owns the loss tensors.
/// </summary>
public sealed class WeightedTaskLosses : IDisposable
{
    private readonly List<TaskResult> _results = [];
    private readonly Dictionary<string, Tensor> _losses = [];

    /// <summary>Σ weight · loss over the tasks that ran; null when none did.</summary>
    public Tensor? Total { get; private set; }
    public IReadOnlyList<TaskResult> Results => _results;
    /// <summary>Unweighted loss tensors of the tasks that ran, by task id.</summary>
    public IReadOnlyDictionary<string, Tensor> Losses => _losses;

    public void Add(string task, double weight, Func<Tensor?> compute)
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
        loss.DetachFromDisposeScope();
        _losses[task] = loss;
        _results.Add(new TaskResult(task, TaskOutcome.Ok, Scalars.ToDouble(loss), weight));
        using var weighted = loss * weight;
        var total = Total is null ? weighted.clone() : Total + weighted;
        Total?.Dispose();
        Total = total.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        Total?.Dispose();
        foreach (var t in _losses.Values) t.Dispose();
    }
}
