using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>
/// Categorisation by a linear probe (MODEL.md §7): multinomial logistic regression trained with our
/// AdamW on frozen embeddings, then scored on held-out ones. The weights start at zero, which is
/// deterministic and harmless for a convex problem; only the minibatch order is random (seeded).
/// </summary>
public static class LinearProbe
{
    /// <param name="trainFeatures">(N, E) frozen embeddings; labels below 0 (unknown) are left out</param>
    /// <param name="testFeatures">(M, E) frozen embeddings of the test split</param>
    /// <returns>Accuracy on the test rows with a known label (NaN when there are none).</returns>
    public static double Accuracy(Tensor trainFeatures, IReadOnlyList<int> trainLabels, Tensor testFeatures, IReadOnlyList<int> testLabels, ProbeOptions options)
    {
        options.Validate();
        using var scope = torch.NewDisposeScope();
        var (x, y) = Known(trainFeatures, trainLabels);
        var (xt, yt) = Known(testFeatures, testLabels);
        if (y.Length == 0) throw new ArgumentException("the probe has no labelled training item", nameof(trainLabels));
        if (yt.Length == 0) return double.NaN;
        int classes = Math.Max(y.Max(), yt.Max()) + 1;
        long dim = trainFeatures.size(1);
        var device = trainFeatures.device;

        using var weight = new Parameter(torch.zeros([dim, classes], device: device)).DetachFromDisposeScope();
        using var bias = new Parameter(torch.zeros([classes], device: device)).DetachFromDisposeScope();
        using var optimizer = new AdamWOptimizer([("weight", weight), ("bias", bias)], new AdamWOptions { WeightDecay = options.WeightDecay });
        using var generator = new Generator(options.Seed);
        var labels = torch.tensor(y.Select(l => (long)l).ToArray(), device: device);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            // The order is drawn on the CPU (the generator's device), then moved.
            using var order = torch.randperm(y.Length, generator: generator).to(device);
            for (long s = 0; s < y.Length; s += options.BatchSize)
            {
                using var step = torch.NewDisposeScope();
                var index = order.narrow(0, s, Math.Min(y.Length, s + options.BatchSize) - s);
                var logits = x.index_select(0, index).matmul(weight).Add(bias);
                var loss = torch.nn.functional.cross_entropy(logits, labels.index_select(0, index));
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step(options.LearningRate);
            }
        }
        using var noGrad = torch.no_grad();
        long[] predicted = Scalars.ToArray<long>(xt.matmul(weight).Add(bias).argmax(1));
        return predicted.Zip(yt).Count(p => p.First == p.Second) / (double)yt.Length;
    }

    /// <summary>The rows with a known label (≥ 0), detached from any graph.</summary>
    private static (Tensor Features, int[] Labels) Known(Tensor features, IReadOnlyList<int> labels)
    {
        if (features.size(0) != labels.Count) throw new ArgumentException($"{labels.Count} labels for {features.size(0)} rows", nameof(labels));
        long[] keep = Enumerable.Range(0, labels.Count).Where(i => labels[i] >= 0).Select(i => (long)i).ToArray();
        var index = torch.tensor(keep, device: features.device);
        return (features.detach().index_select(0, index), keep.Select(i => labels[(int)i]).ToArray());
    }
}
