using CommerceMM.Torch;
using CommerceMM.Torch.Optim;

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
        using var scope = DisposeScope.Open();
        var (x, y) = Known(trainFeatures, trainLabels);
        var (xt, yt) = Known(testFeatures, testLabels);
        if (y.Length == 0) throw new ArgumentException("the probe has no labelled training item", nameof(trainLabels));
        if (yt.Length == 0) return double.NaN;
        int classes = Math.Max(y.Max(), yt.Max()) + 1;
        long dim = trainFeatures.Size(1);

        var weight = DisposeScope.Detach(Torch.Torch.Zeros([dim, classes], requiresGrad: true));
        var bias = DisposeScope.Detach(Torch.Torch.Zeros([classes], requiresGrad: true));
        using (weight)
        using (bias)
        using (var optimizer = new AdamW([("weight", weight), ("bias", bias)], new AdamWOptions { WeightDecay = options.WeightDecay }))
        using (var generator = new Generator(options.Seed))
        {
            var labels = Torch.Torch.FromArray(y.Select(l => (long)l).ToArray());
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                using var order = Torch.Torch.RandPerm(y.Length, generator);
                for (long s = 0; s < y.Length; s += options.BatchSize)
                {
                    using var step = DisposeScope.Open();
                    var index = order.Slice(0, s, Math.Min(y.Length, s + options.BatchSize));
                    var logits = x.IndexSelect(0, index).MatMul(weight) + bias;
                    var loss = Losses.CrossEntropy(logits, labels.IndexSelect(0, index));
                    optimizer.ZeroGrad();
                    loss.Backward();
                    optimizer.Step(options.LearningRate);
                }
            }
            using var noGrad = Torch.Torch.NoGrad();
            long[] predicted = (xt.MatMul(weight) + bias).ArgMax(1).ToArray<long>();
            return predicted.Zip(yt).Count(p => p.First == p.Second) / (double)yt.Length;
        }
    }

    /// <summary>The rows with a known label (≥ 0), detached from any graph.</summary>
    private static (Tensor Features, int[] Labels) Known(Tensor features, IReadOnlyList<int> labels)
    {
        if (features.Size(0) != labels.Count) throw new ArgumentException($"{labels.Count} labels for {features.Size(0)} rows", nameof(labels));
        long[] keep = Enumerable.Range(0, labels.Count).Where(i => labels[i] >= 0).Select(i => (long)i).ToArray();
        var index = Torch.Torch.FromArray(keep);
        return (features.Detach().IndexSelect(0, index), keep.Select(i => labels[(int)i]).ToArray());
    }
}
