using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.NN;

public class AttentionTests
{
    /// <summary>
    /// bf16 attention on the CPU is the fp32 kernel on the upcast inputs, rounded to bf16, forward and backward: libtorch's
    /// own bf16 kernel is slower there, and gives other bits (its attention weights are rounded to bf16 before they meet v).
    /// </summary>
    [Fact]
    public void Bf16OnTheCpu_IsTheFp32KernelOnTheUpcastInputs_Rounded()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        Tensor Draw() => torch.randn([2, 2, 7, 8], generator: generator).to(ScalarType.BFloat16);
        var (q, k, v) = (Draw(), Draw(), Draw());
        var blocked = torch.tensor(new[] { false, false, false, false, false, true, true, false, false, false, false, false, false, false }).view(2, 1, 1, 7);
        var upstream = torch.randn([2, 2, 7, 8], generator: generator);

        var (ours, oursGradients) = AttendAndBackward(q, k, v, x => x, (a, b, c) => Attention.ScaledDotProduct(a, b, c, blocked));
        var (fp32, fp32Gradients) = AttendAndBackward(q, k, v, x => x.to(ScalarType.Float32),
            (a, b, c) => torch.nn.functional.scaled_dot_product_attention(a, b, c, blocked.logical_not()).to(ScalarType.BFloat16));

        Assert.Equal(ScalarType.BFloat16, ours.dtype);
        Assert.True(ours.eq(fp32).all().item<bool>(), "forward differs from the fp32 kernel's result rounded to bf16");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ScalarType.BFloat16, oursGradients[i].dtype);
            Assert.True(oursGradients[i].eq(fp32Gradients[i]).all().item<bool>(), $"the gradient of input {i} differs from the fp32 kernel's");
        }

        (Tensor Result, Tensor[] Gradients) AttendAndBackward(Tensor q0, Tensor k0, Tensor v0, Func<Tensor, Tensor> prepare, Func<Tensor, Tensor, Tensor, Tensor> attend)
        {
            var leaves = new[] { q0, k0, v0 }.Select(t => t.detach().requires_grad_()).ToArray();
            var result = attend(prepare(leaves[0]), prepare(leaves[1]), prepare(leaves[2]));
            result.to(ScalarType.Float32).mul(upstream).sum().backward();
            return (result.detach(), leaves.Select(l => l.grad!).ToArray());
        }
    }
}
