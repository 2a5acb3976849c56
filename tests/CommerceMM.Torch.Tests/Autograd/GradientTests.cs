namespace CommerceMM.Torch.Tests.Autograd;

/// <summary>Every differentiable op of the engine against finite differences in float64.</summary>
public class GradientTests
{
    private static Tensor R(ulong seed, params long[] shape)
    {
        using var g = new Generator(seed);
        return Torch.Randn(shape, g, DType.Float64);
    }

    private static Tensor Positive(ulong seed, params long[] shape)
    {
        using var g = new Generator(seed);
        using var u = Torch.Rand(shape, g, DType.Float64);
        return u + 0.5;
    }

    public static TheoryData<string> Ops => new(Cases.Keys);

    private static readonly Dictionary<string, Action> Cases = new()
    {
        ["add"] = () => GradCheck.Check("add", x => x[0] + x[1], R(1, 3, 4), R(2, 4)),
        ["sub"] = () => GradCheck.Check("sub", x => x[0] - x[1], R(1, 3, 4), R(2, 3, 1)),
        ["mul"] = () => GradCheck.Check("mul", x => x[0] * x[1], R(1, 3, 4), R(2, 3, 4)),
        ["div"] = () => GradCheck.Check("div", x => x[0] / x[1], R(1, 3, 4), Positive(2, 3, 4)),
        ["scalar ops"] = () => GradCheck.Check("scalar", x => (2.0 - x[0] * 3.0 + 1.5) / 4.0, R(1, 5)),
        ["pow"] = () => GradCheck.Check("pow", x => x[0].Pow(x[1]), Positive(1, 3, 4), R(2, 3, 4)),
        ["pow scalar"] = () => GradCheck.Check("pow scalar", x => x[0].Pow(3), R(1, 3, 4)),
        ["neg abs"] = () => GradCheck.Check("neg abs", x => x[0].Neg().Abs(), R(1, 6)),
        ["matmul"] = () => GradCheck.Check("matmul", x => x[0].MatMul(x[1]), R(1, 2, 3, 4), R(2, 4, 5)),
        ["bmm"] = () => GradCheck.Check("bmm", x => x[0].Bmm(x[1]), R(1, 2, 3, 4), R(2, 2, 4, 2)),
        ["linear"] = () => GradCheck.Check("linear", x => Functional.Linear(x[0], x[1], x[2]), R(1, 2, 3, 4), R(2, 5, 4), R(3, 5)),
        ["exp"] = () => GradCheck.Check("exp", x => x[0].Exp(), R(1, 3, 4)),
        ["log"] = () => GradCheck.Check("log", x => x[0].Log(), Positive(1, 3, 4)),
        ["sqrt"] = () => GradCheck.Check("sqrt", x => x[0].Sqrt(), Positive(1, 3, 4)),
        ["rsqrt"] = () => GradCheck.Check("rsqrt", x => x[0].Rsqrt(), Positive(1, 3, 4)),
        ["tanh"] = () => GradCheck.Check("tanh", x => x[0].Tanh(), R(1, 3, 4)),
        ["sin cos"] = () => GradCheck.Check("sin cos", x => x[0].Sin() * x[0].Cos(), R(1, 3, 4)),
        ["gelu"] = () => GradCheck.Check("gelu", x => x[0].Gelu(), R(1, 3, 4)),
        ["relu"] = () => GradCheck.Check("relu", x => x[0].Relu(), R(1, 3, 4)),
        ["sigmoid"] = () => GradCheck.Check("sigmoid", x => x[0].Sigmoid(), R(1, 3, 4)),
        ["softmax"] = () => GradCheck.Check("softmax", x => x[0].Softmax(-1), R(1, 3, 4)),
        ["log_softmax"] = () => GradCheck.Check("log_softmax", x => x[0].LogSoftmax(0), R(1, 3, 4)),
        ["logsumexp"] = () => GradCheck.Check("logsumexp", x => x[0].LogSumExp(1), R(1, 3, 4)),
        ["layer_norm"] = () => GradCheck.Check("layer_norm", x => Functional.LayerNorm(x[0], [4], x[1], x[2]), R(1, 3, 4), R(2, 4), R(3, 4)),
        ["normalize"] = () => GradCheck.Check("normalize", x => x[0].Normalize(-1), R(1, 3, 4)),
        ["embedding"] = () => GradCheck.Check("embedding", x => Functional.Embedding(x[0], Torch.FromArray(new long[] { 0, 2, 2, 4 }, 2, 2)), R(1, 5, 3)),
        ["dropout (eval)"] = () => GradCheck.Check("dropout", x => Functional.Dropout(x[0], 0.5, training: false, null), R(1, 3, 4)),
        ["dropout (train, fixed mask)"] = () => GradCheck.Check("dropout", x => { using var g = new Generator(7); return Functional.Dropout(x[0], 0.3, training: true, g); }, R(1, 3, 4)),
        ["masked_fill"] = () => GradCheck.Check("masked_fill", x => x[0].MaskedFill(Torch.FromArray(new[] { true, false, true, false }), 0.5), R(1, 3, 4)),
        ["where"] = () => GradCheck.Check("where", x => Torch.Where(Torch.FromArray(new[] { true, false, false, true }), x[0], x[1]), R(1, 3, 4), R(2, 3, 4)),
        ["clamp"] = () => GradCheck.Check("clamp", x => x[0].Clamp(-0.5, 0.7), R(1, 4, 5)),
        ["maximum minimum"] = () => GradCheck.Check("maximum", x => x[0].Maximum(x[1]) + x[0].Minimum(x[1]) * 2.0, R(1, 3, 4), R(2, 3, 4)),
        ["sum mean"] = () => GradCheck.Check("sum mean", x => x[0].Sum(1) + x[0].Mean(1, keepDim: false) * 3.0 + x[0].Mean(), R(1, 3, 4)),
        ["max"] = () => GradCheck.Check("max", x => x[0].Max(1).Values + x[0].Max(), R(1, 3, 4)),
        ["topk"] = () => GradCheck.Check("topk", x => x[0].TopK(2).Values, R(1, 3, 4)),
        ["norm"] = () => GradCheck.Check("norm", x => x[0].Norm(2, [1]) + x[0].Norm(), R(1, 3, 4)),
        ["reshape transpose permute"] = () => GradCheck.Check("views", x => x[0].Reshape(4, 3).Transpose(0, 1).Permute(1, 0).View(2, 6).Flatten(), R(1, 3, 4)),
        ["slice select"] = () => GradCheck.Check("slice", x => x[0].Slice(1, 1, 3) * x[0].Select(0, 2).Slice(0, 0, 2), R(1, 3, 4)),
        ["index_select gather"] = () => GradCheck.Check("index", x => x[0].IndexSelect(0, Torch.FromArray(new long[] { 2, 0, 2 })).Slice(1, 0, 3) + x[0].Gather(1, Torch.FromArray(new long[] { 0, 3, 1, 1, 2, 2, 3, 0, 0 }, 3, 3)), R(1, 3, 4)),
        ["cat stack"] = () => GradCheck.Check("cat stack", x => Torch.Cat([x[0], x[1]], 0).Sum(0) + Torch.Stack([x[0], x[1]], 1).Sum([0, 1]), R(1, 2, 3), R(2, 2, 3)),
        ["expand repeat"] = () => GradCheck.Check("expand", x => x[0].Expand(3, 4) + x[0].Repeat(3, 1), R(1, 1, 4)),
        ["unsqueeze squeeze contiguous clone"] = () => GradCheck.Check("shape", x => x[0].Unsqueeze(0).Transpose(1, 2).Contiguous().Squeeze(0).Clone(), R(1, 3, 4)),
        ["masked select rows"] = () => GradCheck.Check("mask rows", x => x[0].MaskedSelectRows(Torch.FromArray(new[] { true, false, true })), R(1, 3, 4)),
        ["index put"] = () => GradCheck.Check("index put", x => x[0].IndexPut(Torch.FromArray(new[] { false, true, true }), x[1]), R(1, 3, 4), R(2, 4)),
        ["to dtype round trip"] = () => GradCheck.Check("to", x => x[0].To(DType.Float32).To(DType.Float64) * 0 + x[0], R(1, 3)),
        ["attention"] = () => GradCheck.Check("attention", x => Functional.Attention(x[0], x[1], x[2], Torch.FromArray(new[] { false, false, true }, 1, 1, 1, 3)), R(1, 1, 2, 3, 4), R(2, 1, 2, 3, 4), R(3, 1, 2, 3, 4)),
        ["cross_entropy"] = () => GradCheck.Check("cross_entropy", x => Losses.CrossEntropy(x[0], Torch.FromArray(new long[] { 1, -100, 3, 0 })), R(1, 4, 5)),
        ["cross_entropy smoothing sum"] = () => GradCheck.Check("cross_entropy", x => Losses.CrossEntropy(x[0], Torch.FromArray(new long[] { 1, 2, 3, 0 }), Reduction.Sum, labelSmoothing: 0.1), R(1, 4, 5)),
        ["kl_div"] = () => GradCheck.Check("kl_div", x => Losses.KlDiv(x[0].LogSoftmax(-1), x[1].Softmax(-1)), R(1, 3, 5), R(2, 3, 5)),
        ["mse_loss"] = () => GradCheck.Check("mse", x => Losses.MseLoss(x[0], x[1]), R(1, 3, 4), R(2, 3, 4)),
        ["bce_with_logits"] = () => GradCheck.Check("bce", x => Losses.BceWithLogits(x[0], x[1].Sigmoid()), R(1, 3, 4), R(2, 3, 4)),
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void Gradient_MatchesFiniteDifferences(string op)
    {
        using var scope = DisposeScope.Open();
        Cases[op]();
    }
}
