using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.NN;

public class AttentionTests
{
    /// <summary>
    /// bf16 attention on the CPU (its own explicit form, not libtorch's fused kernel) stays within bf16 rounding of fp32
    /// attention on the same inputs, forward and backward, and a blocked key gets neither weight nor gradient.
    /// </summary>
    [Fact]
    public void Bf16OnTheCpu_StaysWithinBf16RoundingOfFp32_AndIgnoresBlockedKeys()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11);
        Tensor Draw() => torch.randn([2, 2, 7, 8], generator: generator).to(ScalarType.BFloat16);
        var (q, k, v) = (Draw(), Draw(), Draw());
        var blocked = torch.tensor(new[] { false, false, false, false, false, true, true, false, false, false, false, false, false, false }).view(2, 1, 1, 7);
        var upstream = torch.randn([2, 2, 7, 8], generator: generator);

        var (ours, oursGradients) = AttendAndBackward(q, k, v, x => x, (a, b, c) => Attention.ScaledDotProduct(a, b, c, blocked));
        var (fp32, fp32Gradients) = AttendAndBackward(q, k, v, x => x.to(ScalarType.Float32),
            (a, b, c) => torch.nn.functional.scaled_dot_product_attention(a, b, c, blocked.logical_not()));

        Assert.Equal(ScalarType.BFloat16, ours.dtype);
        // bf16 keeps 8 significant bits (2^-8 relative); a few roundings of O(1) values stay well within 3e-2.
        Assert.True(ours.to(ScalarType.Float32).allclose(fp32, rtol: 3e-2, atol: 3e-2), "forward is not within bf16 rounding of fp32 attention");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ScalarType.BFloat16, oursGradients[i].dtype);
            Assert.True(oursGradients[i].to(ScalarType.Float32).allclose(fp32Gradients[i].to(ScalarType.Float32), rtol: 3e-2, atol: 3e-2), $"the gradient of input {i} is not within bf16 rounding of fp32's");
        }
        // Row 0's keys 5 and 6 are blocked: no query weighs them, so k and v get no gradient there.
        foreach (int i in new[] { 1, 2 })
            Assert.True(oursGradients[i][0, .., 5..7].eq(0).all().item<bool>(), $"a blocked key got a gradient through input {i}");

        (Tensor Result, Tensor[] Gradients) AttendAndBackward(Tensor q0, Tensor k0, Tensor v0, Func<Tensor, Tensor> prepare, Func<Tensor, Tensor, Tensor, Tensor> attend)
        {
            var leaves = new[] { q0, k0, v0 }.Select(t => t.detach().requires_grad_()).ToArray();
            var result = attend(prepare(leaves[0]), prepare(leaves[1]), prepare(leaves[2]));
            result.to(ScalarType.Float32).mul(upstream).sum().backward();
            return (result.detach(), leaves.Select(l => l.grad!).ToArray());
        }
    }
}
