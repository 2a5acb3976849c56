using CommerceMM.Collectives;
using CommerceMM.Data.Loading;
using CommerceMM.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Worker.Models;

/// <summary>
/// A model the worker trains, behind one interface: batches in, named losses out (MODEL.md §8). The
/// worker owns everything around it (membership, data positions, checkpoints, metrics, failures) and
/// asks the model only for its streams, one step on their next batches, and its state.
/// </summary>
public interface ITrainableModel : IDisposable
{
    /// <summary>
    /// Opens one of its kind's <see cref="IModelKind.Streams"/>: <paramref name="options"/> carry the job's data folder, batch
    /// size, seed, rank, world size and resume position; the model adds what its inputs need (text length …).
    /// </summary>
    IBatchStream OpenStream(string stream, LoaderOptions options);

    /// <summary>The weights a checkpoint saves and restores (state-dict names).</summary>
    nn.Module Module { get; }
    AdamWOptimizer Optimizer { get; }
    /// <summary>Draws dropout masks (a CPU generator, so its state is the same on any device); its state belongs in checkpoints.</summary>
    Generator DropoutGenerator { get; }
    /// <summary>Where the weights live (job.device); <see cref="Step"/> takes batches already moved there.</summary>
    Device Device { get; }
    /// <summary>Steps skipped because some rank saw a non-finite loss or gradient.</summary>
    long SkippedSteps { get; set; }

    /// <summary>
    /// One whole optimizer step (forward, backward, gradient all-reduce, update) on one batch per stream,
    /// each on <see cref="Device"/>. Collective: every rank calls it with the same step.
    /// </summary>
    /// <exception cref="CollectiveException">A collective failed (a peer vanished).</exception>
    ModelStep Step(IReadOnlyList<Batch> batches, long step);
}

/// <summary>
/// What a step reports, the same for every model: each task's outcome (ok with its loss, absent or
/// disabled), extra per-step gauges such as SCALE's mean harmonized weight per modality, the optimizer's
/// figures, text tokens consumed, and a one-line summary for the log.
/// </summary>
public sealed record ModelStep(
    long Step,
    IReadOnlyList<Model.Tasks.TaskResult> Tasks,
    IReadOnlyDictionary<string, double> ModalityWeights,
    double GradNorm,
    double LearningRate,
    bool Skipped,
    double AllReduceSeconds,
    long Tokens,
    string Summary);
