using System.Diagnostics;
using CommerceMM.Collectives;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>How the optimizer half of a step went. AllReduceSeconds: the wait for the gradient all-reduce after backward (what overlap did not hide).</summary>
public readonly record struct OptimizerOutcome(bool Skipped, double GradNorm, double LearningRate, double AllReduceSeconds, double OptimizerSeconds);

/// <summary>
/// The half of a training step every model shares, around its last backward pass: the bucketed gradient
/// all-reduce (its buckets go out during that backward, see <see cref="GradientBucketer"/>), the non-finite
/// vote, global-norm clipping, AdamW at the scheduled rate. The rate is a
/// pure function of the step, so a restored run continues the schedule exactly.
/// </summary>
public sealed class DistributedOptimizer : IDisposable
{
    private readonly TrainerOptions _options;
    private readonly GradientBucketer? _bucketer;
    private readonly EncoderLayer[] _probedLayers = [];

    /// <param name="model">the module whose encoder layers report when their gradients are final (overlap)</param>
    /// <param name="trainable">the parameters the optimizer updates, a subset of the model's</param>
    public DistributedOptimizer(nn.Module model, IReadOnlyList<(string Name, Tensor Tensor)> trainable, TrainerOptions options, ProcessGroup? group)
    {
        options.Schedule.Validate();
        _options = options;
        // Encoder layers' parameters first: the optimizer keeps this order within its decayed and undecayed halves
        // of the flat buffers, so everything outside the layers ends up side by side, one bucket instead of several.
        // Every world size uses the same layout, so the same sums in the same order (the gradient norm).
        var layers = model.named_modules().Where(m => m.module is EncoderLayer).Select(m => (m.name, Layer: (EncoderLayer)m.module)).ToList();
        Optimizer = new AdamWOptimizer(trainable.OrderBy(p => layers.Any(l => p.Name.StartsWith(l.name + ".", StringComparison.Ordinal)) ? 0 : 1), options.AdamW);
        if (group is not { Size: > 1 }) return;
        // Indexed as the flat buffers order parameters (the optimizer puts decayed ones first), which the buckets follow.
        var units = new int[Optimizer.Flat.Count];
        Array.Fill(units, -1);
        (_probedLayers, int[] stackOfUnit) = TrainedLayers(layers, Optimizer.Flat, units);
        var readiness = new GradientReadiness(_probedLayers.Length);
        for (int i = 0; i < _probedLayers.Length; i++) _probedLayers[i].GradientProbe = new ReadinessProbe(readiness, i);
        _bucketer = new GradientBucketer(group, Optimizer.Flat, units, stackOfUnit, readiness, options.BucketBytes);
    }

    /// <summary>
    /// The <paramref name="layers"/> that own some of <paramref name="flat"/>'s parameters, each a unit, with the stack (text,
    /// image, fusion encoder) each unit is in; fills in the unit of each layer's matrices. A layer's vectors (biases,
    /// norms) stay without a unit: they are a few KiB, and travel with the other such parameters in one bucket
    /// rather than as many tiny collectives, each of which costs a round trip.
    /// </summary>
    private static (EncoderLayer[] Layers, int[] StackOfUnit) TrainedLayers(IEnumerable<(string Name, EncoderLayer Layer)> layers, FlatParameters flat, int[] units)
    {
        var trained = new List<EncoderLayer>();
        var stackOfUnit = new List<int>();
        var stacks = new Dictionary<string, int>();
        foreach (var (name, layer) in layers)
        {
            string prefix = name + ".";
            bool owns = false;
            for (int p = 0; p < flat.Count; p++)
            {
                if (!flat.Names[p].StartsWith(prefix, StringComparison.Ordinal)) continue;
                owns = true;
                if (flat.Parameters[p].dim() >= 2) units[p] = trained.Count;
            }
            if (!owns) continue; // the EMA teacher's layers are not trained
            string stack = name[..Math.Max(0, name.LastIndexOf('.'))];
            if (!stacks.TryGetValue(stack, out int id)) stacks[stack] = id = stacks.Count;
            trained.Add(layer);
            stackOfUnit.Add(id);
        }
        return (trained.ToArray(), stackOfUnit.ToArray());
    }

    /// <summary>Call before the step's last forward pass, so its backward can send finished layers' gradients at once.</summary>
    public void StartLastPass()
    {
        if (_options.OverlapAllReduce) _bucketer?.StartOverlap();
    }

    /// <summary>Gradient buckets of the last step sent while backward was still running (0 without overlap).</summary>
    public int BucketsSentDuringBackward => _bucketer?.LaunchedDuringBackward ?? 0;

    /// <summary>Gradient buckets per step (0 in a single process).</summary>
    public int BucketCount => _bucketer?.BucketCount ?? 0;

    public AdamWOptimizer Optimizer { get; }

    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    public long SkippedSteps { get; set; }

    public void ZeroGrad() => Optimizer.ZeroGrad();

    /// <summary>
    /// Averages, clips and applies this step's gradients, or (when any rank's loss or the global
    /// gradient is non-finite) drops them and counts the step as skipped. Collective: every rank calls it.
    /// </summary>
    public OptimizerOutcome Apply(bool lossFinite, long step)
    {
        var clock = Stopwatch.StartNew();
        double lr = _options.Schedule.LearningRate(step), gradNorm = double.NaN;
        // Buckets may already be on their way: every rank finishes the all-reduce, whatever the vote says. Every rank
        // must take the same branch, or the next collective would pair with the wrong peer: the vote is the all-reduce's.
        bool skip = _bucketer?.AllReduceAverage(skipVote: !lossFinite) ?? !lossFinite;
        double allReduce = clock.Elapsed.TotalSeconds;
        if (!skip)
        {
            // After the all-reduce every rank holds the same gradients, so the same norm: no vote needed.
            gradNorm = GradientClipping.GlobalNorm(Optimizer.Flat);
            skip = !double.IsFinite(gradNorm);
        }
        if (skip)
        {
            Optimizer.ZeroGrad();
            SkippedSteps++;
            return new OptimizerOutcome(true, gradNorm, lr, allReduce, 0);
        }
        double before = clock.Elapsed.TotalSeconds;
        Optimizer.Step(lr, GradientClipping.Coefficient(gradNorm, _options.MaxGradNorm));
        Optimizer.ZeroGrad();
        return new OptimizerOutcome(false, gradNorm, lr, allReduce, clock.Elapsed.TotalSeconds - before);
    }

    public void Dispose()
    {
        foreach (var layer in _probedLayers) layer.GradientProbe = null;
        Optimizer.Dispose();
        _bucketer?.Dispose();
    }
}
