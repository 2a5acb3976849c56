using CommerceMM.Model.Evaluation;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Evaluation;

public class LinearProbeTests
{
    /// <summary>Three well-separated Gaussian clusters in 8 dimensions; the label is the cluster.</summary>
    private static (Tensor Features, int[] Labels) Clusters(int perClass, ulong seed)
    {
        using var g = new Generator(seed);
        using var noise = torch.randn([3 * perClass, 8], generator: g);
        float[] x = Scalars.ToArray<float>(noise);
        var labels = new int[3 * perClass];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = i % 3;
            x[i * 8 + labels[i]] += 6;   // cluster centre: 6 on the label's own axis
        }
        return (torch.tensor(x, [labels.Length, 8]), labels);
    }

    [Fact]
    public void Accuracy_SeparableClusters_LearnsThemAll()
    {
        var (train, trainLabels) = Clusters(40, 1);
        var (test, testLabels) = Clusters(20, 2);
        using (train)
        using (test)
        {
            double accuracy = LinearProbe.Accuracy(train, trainLabels, test, testLabels, new ProbeOptions { Epochs = 30, BatchSize = 32, LearningRate = 0.05 });
            Assert.Equal(1.0, accuracy);
        }
    }

    [Fact]
    public void Accuracy_SameSeed_SameResult()
    {
        var (train, trainLabels) = Clusters(10, 3);
        var (test, testLabels) = Clusters(10, 4);
        using (train)
        using (test)
        {
            // Few epochs, so the probe is still learning and any nondeterminism would show.
            var options = new ProbeOptions { Epochs = 1, BatchSize = 4, LearningRate = 0.01, Seed = 9 };
            Assert.Equal(LinearProbe.Accuracy(train, trainLabels, test, testLabels, options), LinearProbe.Accuracy(train, trainLabels, test, testLabels, options));
        }
    }

    [Fact]
    public void Accuracy_UnknownLabels_AreLeftOut()
    {
        var (train, trainLabels) = Clusters(20, 5);
        var (test, testLabels) = Clusters(10, 6);
        using (train)
        using (test)
        {
            testLabels[0] = -1;
            trainLabels[1] = -1;
            double accuracy = LinearProbe.Accuracy(train, trainLabels, test, testLabels, new ProbeOptions { LearningRate = 0.05 });
            Assert.Equal(1.0, accuracy);
        }
    }
}
