namespace CommerceMM.Torch.Tests.Autograd;

/// <summary>
/// Compares autograd's gradient with central finite differences in float64. Non-scalar outputs are
/// reduced with fixed, distinct weights so every output element's Jacobian row is exercised.
/// </summary>
internal static class GradCheck
{
    private const double Step = 1e-6;

    public static void Check(string name, Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        using var scope = DisposeScope.Open();
        foreach (var x in inputs) Assert.Equal(DType.Float64, x.DType);
        var leaves = inputs.Select(x => { var l = x.Detach(); l.RequiresGrad = true; return l; }).ToArray();

        var output = Reduce(f(leaves));
        var analytic = CommerceMM.Torch.Autograd.Grad([output], leaves, allowUnused: true);

        for (int i = 0; i < inputs.Length; i++)
        {
            double[] values = inputs[i].ToArray<double>();
            var numeric = new double[values.Length];
            for (int j = 0; j < values.Length; j++)
                numeric[j] = (Evaluate(f, inputs, i, values, j, +Step) - Evaluate(f, inputs, i, values, j, -Step)) / (2 * Step);
            double[] grad = analytic[i]?.ToArray<double>() ?? new double[values.Length];
            TensorAssert.Close(numeric, grad, rtol: 1e-5, atol: 1e-6, $"{name}: d/d(input {i})");
        }
    }

    private static double Evaluate(Func<Tensor[], Tensor> f, Tensor[] inputs, int which, double[] values, int element, double delta)
    {
        using var scope = DisposeScope.Open();
        using var noGrad = Torch.NoGrad();
        var perturbed = (double[])values.Clone();
        perturbed[element] += delta;
        var args = inputs.Select((x, k) => k == which ? Torch.FromArray(perturbed, x.Shape) : x).ToArray();
        return Reduce(f(args)).Item();
    }

    private static Tensor Reduce(Tensor output)
    {
        var weights = Torch.Arange(1, output.NumEl + 1, 1, DType.Float64).Mul(0.37).Sin().Reshape(output.Shape);
        return (output.To(DType.Float64) * weights).Sum();
    }
}
