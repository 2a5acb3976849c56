using CommerceMM.Tests.Shared;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Autograd;

/// <summary>
/// Compares autograd's gradient with central finite differences in float64. Non-scalar outputs are
/// reduced with fixed, distinct weights so every output element's Jacobian row is exercised.
/// </summary>
internal static class GradCheck
{
    private const double Step = 1e-6;

    public static void Check(string name, Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var x in inputs) Assert.Equal(ScalarType.Float64, x.dtype);
        var leaves = inputs.Select(x => x.detach().requires_grad_(true)).ToArray();

        var output = Reduce(f(leaves));
        var analytic = torch.autograd.grad([output], leaves, allow_unused: true);

        for (int i = 0; i < inputs.Length; i++)
        {
            double[] values = Scalars.ToArray<double>(inputs[i]);
            var numeric = new double[values.Length];
            for (int j = 0; j < values.Length; j++)
                numeric[j] = (Evaluate(f, inputs, i, values, j, +Step) - Evaluate(f, inputs, i, values, j, -Step)) / (2 * Step);
            double[] grad = analytic[i] is { IsInvalid: false } g ? Scalars.ToArray<double>(g) : new double[values.Length];
            TensorAssert.Close(numeric, grad, rtol: 1e-5, atol: 1e-6, $"{name}: d/d(input {i})");
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] inputs, int which, double[] values, int element, double delta)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var perturbed = (double[])values.Clone();
        perturbed[element] += delta;
        var args = inputs.Select((x, k) => k == which ? torch.tensor(perturbed, x.shape) : x).ToArray();
        return Scalars.ToDouble(Reduce(f(args)));
    }

    private static Tensor Reduce(Tensor output)
    {
        var weights = (torch.arange(1, output.numel() + 1, 1, ScalarType.Float64) * 0.37).sin().reshape(output.shape);
        return (output.to(ScalarType.Float64) * weights).sum();
    }
}
