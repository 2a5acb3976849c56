using CommerceMM.Model.NN;
using CommerceMM.Scale.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

public class LossTests
{
    [Fact]
    public void HarmonizedWeights_ThreeOfFiveModalities_MatchHandComputation()
    {
        // image (1, 0), text (0.6, 0.8), table (0, 1); video and audio missing (their data must not matter).
        using var scope = NewDisposeScope();
        double[][] e = [[1, 0], [0.6, 0.8], [0, 1]];
        var pooled = tensor(new float[] { 1, 0, 0.6f, 0.8f, 0, 1, 5, -3, 2, 9 }, [1, 5, 2], device: CPU);
        var present = tensor(new[] { true, true, true, false, false }, [1, 5], device: CPU);
        double[] w = Scalars.ToArray<double>(HarmonizedWeights.Compute(pooled, present).to(ScalarType.Float64));

        for (int i = 0; i < 3; i++)
        {
            var g = Enumerable.Range(0, 3).Select(j => e[i][0] * e[j][0] + e[i][1] * e[j][1]).ToArray();
            double z = g.Sum(Math.Exp);
            var h = g.Select(x => x * Math.Exp(x) / z).ToArray();
            double norm = Math.Sqrt(h.Sum(x => x * x));
            for (int j = 0; j < 5; j++)
                Assert.Equal(j < 3 ? h[j] / norm : 0, w[i * 5 + j], 5);
        }
        for (int i = 3; i < 5; i++)
            for (int j = 0; j < 5; j++) Assert.Equal(0, w[i * 5 + j], 6);
    }

    [Fact]
    public void HarmonizedWeights_Backward_GradientReachesEmbeddings()
    {
        using var scope = NewDisposeScope();
        var pooled = tensor(new float[] { 1, 0, 0.6f, 0.8f, 0, 1, 0.8f, 0.6f, -1, 0 }, [1, 5, 2], device: CPU).requires_grad_();
        var present = ones([1, 5], ScalarType.Bool, device: CPU);
        var w = HarmonizedWeights.Compute(pooled, present);
        var grad = autograd.grad([w.select(1, 0).select(1, 1)], [pooled])[0];
        double[] g = Scalars.ToArray<float>(grad).Select(x => (double)x).ToArray();
        Assert.All(g, x => Assert.True(double.IsFinite(x)));
        Assert.True(g.Max(Math.Abs) > 1e-3, "W[image, text] must depend on the embeddings");
    }

    [Fact]
    public void Contrastive_OrthonormalEmbeddingsWithWeights_MatchesClosedForm()
    {
        // q = k = I₃, τ = 0.5: row i's logits are w_i·(2, 0, 0) up to order.
        using var scope = NewDisposeScope();
        var eye = tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, [3, 3], device: CPU);
        var weights = tensor(new float[] { 1, 0.5f, 0 }, device: CPU);
        double loss = Scalars.ToDouble(ScaleContrastive.Sum(eye, eye, arange(3, device: CPU), weights, 0.5));
        double expected = new[] { 1.0, 0.5, 0 }.Sum(w => -Math.Log(Math.Exp(2 * w) / (Math.Exp(2 * w) + 2)));
        Assert.Equal(expected, loss, 5);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(10, 2)]
    [InlineData(16, 2)]
    [InlineData(17, 3)]
    public void MaskCount_FifteenPercent_AtLeastOneRounded(int units, int expected) =>
        Assert.Equal(expected, ScaleMaskPlan.Count(0.15, units));
}
