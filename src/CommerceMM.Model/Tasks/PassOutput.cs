using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// What one pass produced: the weighted loss to back-propagate (null when no task ran), each task's
/// result, and the unweighted loss tensors by task (for dumps and tests). Owns its tensors.
/// </summary>
public sealed class PassOutput : IDisposable
{
    private readonly WeightedTaskLosses _tasks = new();
    private readonly ConcurrentBranches _branches;

    /// <param name="branches">runs the pass's encoders side by side where that pays (<see cref="Deferred"/>)</param>
    internal PassOutput(ConcurrentBranches branches) => _branches = branches;

    /// <summary>The encoders' backward passes that wait for the weighted loss's backward (<see cref="ConcurrentBranches"/>).</summary>
    internal DeferredBackward Deferred { get; } = new();

    public Tensor? Total => _tasks.Total;
    public IReadOnlyList<TaskResult> Results => _tasks.Results;
    public IReadOnlyDictionary<string, Tensor> Losses => _tasks.Losses;

    /// <summary>Random choices made during the pass (e.g. ITM hard negatives), by name, for step dumps.</summary>
    public IReadOnlyDictionary<string, Tensor> Choices => _choices;

    private readonly Dictionary<string, Tensor> _choices = [];

    internal void Record(string name, Tensor choice) => _choices[name] = choice.clone().DetachFromDisposeScope();

    /// <summary>
    /// When mim_kl is enabled: this rank's sum of the teacher's prototype scores over all patch tokens (K)
    /// and how many tokens that is. Set even for an empty batch, so every rank joins the centre's
    /// all-reduce; the trainer divides the global sum by the global count.
    /// </summary>
    public (Tensor Sum, long Count)? CenterEstimate { get; internal set; }

    internal void Add(string task, double weight, Func<Tensor?> compute) => _tasks.Add(task, weight, compute);

    /// <summary>
    /// Back-propagates the weighted loss into the parameters' gradients (accumulating), encoders included. A rank whose
    /// share of every task was empty holds a constant loss: nothing to back-propagate.
    /// </summary>
    public void Backward()
    {
        if (Total is not { requires_grad: true } total) return;
        total.backward();
        Deferred.Run(_branches);
    }

    public void Dispose()
    {
        Deferred.Dispose();
        _tasks.Dispose();
        CenterEstimate?.Sum.Dispose();
        foreach (var t in _choices.Values) t.Dispose();
    }
}
