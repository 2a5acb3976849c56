using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace CommerceMM.Model.Tests.Autograd;

/// <summary>Every differentiable op the model uses, and our own (dropout, attention, the layers), against finite differences in float64.</summary>
public class GradientTests
{
    private static Tensor R(ulong seed, params long[] shape)
    {
        using var g = new Generator(seed);
        return torch.randn(shape, ScalarType.Float64, generator: g);
    }

    private static Tensor Positive(ulong seed, params long[] shape)
    {
        using var g = new Generator(seed);
        using var u = torch.rand(shape, ScalarType.Float64, generator: g);
        return u + 0.5;
    }

    private static Tensor Longs(long[] values, params long[] shape) => torch.tensor(values, shape);
    private static Tensor Bools(bool[] values, params long[] shape) => torch.tensor(values, shape);

    public static TheoryData<string> Ops => new(Cases.Keys);

    private static readonly Dictionary<string, Action> Cases = new()
    {
        ["add"] = () => GradCheck.Check("add", x => x[0] + x[1], R(1, 3, 4), R(2, 4)),
        ["sub"] = () => GradCheck.Check("sub", x => x[0] - x[1], R(1, 3, 4), R(2, 3, 1)),
        ["mul"] = () => GradCheck.Check("mul", x => x[0] * x[1], R(1, 3, 4), R(2, 3, 4)),
        ["div"] = () => GradCheck.Check("div", x => x[0] / x[1], R(1, 3, 4), Positive(2, 3, 4)),
        ["scalar ops"] = () => GradCheck.Check("scalar", x => (2.0 - x[0] * 3.0 + 1.5) / 4.0, R(1, 5)),
        ["pow"] = () => GradCheck.Check("pow", x => x[0].pow(x[1]), Positive(1, 3, 4), R(2, 3, 4)),
        ["pow scalar"] = () => GradCheck.Check("pow scalar", x => x[0].pow(3), R(1, 3, 4)),
        ["neg abs"] = () => GradCheck.Check("neg abs", x => x[0].neg().abs(), R(1, 6)),
        ["matmul"] = () => GradCheck.Check("matmul", x => x[0].matmul(x[1]), R(1, 2, 3, 4), R(2, 4, 5)),
        ["bmm"] = () => GradCheck.Check("bmm", x => x[0].bmm(x[1]), R(1, 2, 3, 4), R(2, 2, 4, 2)),
        ["linear"] = () => GradCheck.Check("linear", x => F.linear(x[0], x[1], x[2]), R(1, 2, 3, 4), R(2, 5, 4), R(3, 5)),
        ["exp"] = () => GradCheck.Check("exp", x => x[0].exp(), R(1, 3, 4)),
        ["log"] = () => GradCheck.Check("log", x => x[0].log(), Positive(1, 3, 4)),
        ["sqrt"] = () => GradCheck.Check("sqrt", x => x[0].sqrt(), Positive(1, 3, 4)),
        ["rsqrt"] = () => GradCheck.Check("rsqrt", x => x[0].rsqrt(), Positive(1, 3, 4)),
        ["tanh"] = () => GradCheck.Check("tanh", x => x[0].tanh(), R(1, 3, 4)),
        ["sin cos"] = () => GradCheck.Check("sin cos", x => x[0].sin() * x[0].cos(), R(1, 3, 4)),
        ["gelu"] = () => GradCheck.Check("gelu", x => x[0].gelu(), R(1, 3, 4)),
        ["relu"] = () => GradCheck.Check("relu", x => x[0].relu(), R(1, 3, 4)),
        ["sigmoid"] = () => GradCheck.Check("sigmoid", x => x[0].sigmoid(), R(1, 3, 4)),
        ["softmax"] = () => GradCheck.Check("softmax", x => x[0].softmax(-1), R(1, 3, 4)),
        ["log_softmax"] = () => GradCheck.Check("log_softmax", x => x[0].log_softmax(0), R(1, 3, 4)),
        ["logsumexp"] = () => GradCheck.Check("logsumexp", x => x[0].logsumexp(1), R(1, 3, 4)),
        ["layer_norm"] = () => GradCheck.Check("layer_norm", x => F.layer_norm(x[0], [4], x[1], x[2]), R(1, 3, 4), R(2, 4), R(3, 4)),
        ["normalize"] = () => GradCheck.Check("normalize", x => F.normalize(x[0], dim: -1), R(1, 3, 4)),
        ["embedding"] = () => GradCheck.Check("embedding", x => EmbeddingTable.Lookup(x[0], Longs([0, 2, 2, 4], 2, 2)), R(1, 5, 3)),
        ["dropout (eval)"] = () => GradCheck.Check("dropout", x => GeneratorDropout.Apply(x[0], 0.5, training: false, null), R(1, 3, 4)),
        ["dropout (train, fixed mask)"] = () => GradCheck.Check("dropout", x => { using var g = new Generator(7); return GeneratorDropout.Apply(x[0], 0.3, training: true, g); }, R(1, 3, 4)),
        ["masked_fill"] = () => GradCheck.Check("masked_fill", x => x[0].masked_fill(Bools([true, false, true, false], 4), 0.5), R(1, 3, 4)),
        ["where"] = () => GradCheck.Check("where", x => torch.where(Bools([true, false, false, true], 4), x[0], x[1]), R(1, 3, 4), R(2, 3, 4)),
        ["clamp"] = () => GradCheck.Check("clamp", x => x[0].clamp(-0.5, 0.7), R(1, 4, 5)),
        ["maximum minimum"] = () => GradCheck.Check("maximum", x => x[0].maximum(x[1]) + x[0].minimum(x[1]) * 2.0, R(1, 3, 4), R(2, 3, 4)),
        ["sum mean"] = () => GradCheck.Check("sum mean", x => x[0].sum(1) + x[0].mean([1], keepdim: false) * 3.0 + x[0].mean(), R(1, 3, 4)),
        ["max"] = () => GradCheck.Check("max", x => x[0].max(1).values + x[0].max(), R(1, 3, 4)),
        ["topk"] = () => GradCheck.Check("topk", x => x[0].topk(2).values, R(1, 3, 4)),
        ["norm"] = () => GradCheck.Check("norm", x => x[0].norm(1, false, 2) + x[0].norm(), R(1, 3, 4)),
        ["reshape transpose permute"] = () => GradCheck.Check("views", x => x[0].reshape(4, 3).transpose(0, 1).permute(1, 0).view(2, 6).flatten(), R(1, 3, 4)),
        ["slice select"] = () => GradCheck.Check("slice", x => x[0].narrow(1, 1, 2) * x[0].select(0, 2).narrow(0, 0, 2), R(1, 3, 4)),
        ["index_select gather"] = () => GradCheck.Check("index", x => x[0].index_select(0, Longs([2, 0, 2], 3)).narrow(1, 0, 3) + x[0].gather(1, Longs([0, 3, 1, 1, 2, 2, 3, 0, 0], 3, 3)), R(1, 3, 4)),
        ["cat stack"] = () => GradCheck.Check("cat stack", x => torch.cat([x[0], x[1]], 0).sum(dim: 0) + torch.stack([x[0], x[1]], 1).sum(new long[] { 0, 1 }), R(1, 2, 3), R(2, 2, 3)),
        ["expand repeat"] = () => GradCheck.Check("expand", x => x[0].expand(3, 4) + x[0].repeat(3, 1), R(1, 1, 4)),
        ["unsqueeze squeeze contiguous clone"] = () => GradCheck.Check("shape", x => x[0].unsqueeze(0).transpose(1, 2).contiguous().squeeze(0).clone(), R(1, 3, 4)),
        ["masked select rows"] = () => GradCheck.Check("mask rows", x => x[0][Bools([true, false, true], 3)], R(1, 3, 4)),
        ["index put"] = () => GradCheck.Check("index put", x => x[0].clone().index_put_(x[1], Bools([false, true, true], 3)), R(1, 3, 4), R(2, 4)),
        ["to dtype round trip"] = () => GradCheck.Check("to", x => x[0].to(ScalarType.Float32).to(ScalarType.Float64) * 0 + x[0], R(1, 3)),
        ["attention"] = () => GradCheck.Check("attention", x => Attention.ScaledDotProduct(x[0], x[1], x[2], Bools([false, false, true], 1, 1, 1, 3)), R(1, 1, 2, 3, 4), R(2, 1, 2, 3, 4), R(3, 1, 2, 3, 4)),
        ["attention (train, dropout)"] = () => GradCheck.Check("attention", x => { using var g = new Generator(5); return Attention.ScaledDotProduct(x[0], x[1], x[2], Bools([false, false, true], 1, 1, 1, 3), 0.3, training: true, g); }, R(1, 1, 2, 3, 4), R(2, 1, 2, 3, 4), R(3, 1, 2, 3, 4)),
        ["cross_entropy"] = () => GradCheck.Check("cross_entropy", x => F.cross_entropy(x[0], Longs([1, -100, 3, 0], 4)), R(1, 4, 5)),
        ["cross_entropy smoothing sum"] = () => GradCheck.Check("cross_entropy", x => F.cross_entropy(x[0], Longs([1, 2, 3, 0], 4), reduction: nn.Reduction.Sum, label_smoothing: 0.1), R(1, 4, 5)),
        ["kl_div"] = () => GradCheck.Check("kl_div", x => F.kl_div(x[0].log_softmax(-1), x[1].softmax(-1), log_target: false, reduction: nn.Reduction.Sum) / 3.0, R(1, 3, 5), R(2, 3, 5)),
        ["mse_loss"] = () => GradCheck.Check("mse", x => F.mse_loss(x[0], x[1]), R(1, 3, 4), R(2, 3, 4)),
        ["bce_with_logits"] = () => GradCheck.Check("bce", x => F.binary_cross_entropy_with_logits(x[0], x[1].sigmoid()), R(1, 3, 4), R(2, 3, 4)),
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void Gradient_MatchesFiniteDifferences(string op)
    {
        using var scope = torch.NewDisposeScope();
        Cases[op]();
    }
}
