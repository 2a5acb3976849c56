using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Runs tasks and sums their weighted losses into the one tensor a pass back-propagates. A weight of 0
/// skips the task's compute (disabled); a null loss means no eligible rows (absent, never 0). Shared by
/// CommerceMM's passes and SCALE's, so both report tasks alike. Owns the loss tensors.
/// </summary>
/// <remarks>
/// The loss values reach the host together, when <see cref="Results"/> is first read (after the backward passes):
/// reading each as its task finished would wait for the device 14 times in the middle of a step, and leave a GPU
/// idle while the host queued the next task's kernels.
/// </remarks>
public sealed class WeightedTaskLosses : IDisposable
{
    private readonly List<TaskResult> _results = [];
    private readonly List<int> _unread = [];   // indices into _results whose loss is still only a tensor
    private readonly Dictionary<string, Tensor> _losses = [];

    /// <summary>Σ weight · loss over the tasks that ran; null when none did.</summary>
    public Tensor? Total { get; private set; }

    public IReadOnlyList<TaskResult> Results
    {
        get
        {
            ReadLosses();
            return _results;
        }
    }

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
        _unread.Add(_results.Count);
        _results.Add(new TaskResult(task, TaskOutcome.Ok, double.NaN, weight));
        using var weighted = loss.Mul(weight);
        var total = Total is null ? weighted.clone() : Total.Add(weighted);
        Total?.Dispose();
        Total = total.DetachFromDisposeScope();
    }

    /// <summary>Every task's loss value in one copy to the host.</summary>
    private void ReadLosses()
    {
        if (_unread.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        double[] values = Scalars.ToArray<double>(torch.stack(_unread.Select(i => _losses[_results[i].Task].detach().to(ScalarType.Float64)).ToList()));
        for (int k = 0; k < _unread.Count; k++) _results[_unread[k]] = _results[_unread[k]] with { Loss = values[k] };
        _unread.Clear();
    }

    public void Dispose()
    {
        Total?.Dispose();
        foreach (var t in _losses.Values) t.Dispose();
    }
}
