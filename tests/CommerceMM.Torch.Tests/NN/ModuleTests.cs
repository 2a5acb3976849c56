using CommerceMM.Torch.NN;

namespace CommerceMM.Torch.Tests.NN;

public class ModuleTests
{
    [Fact]
    public void StateDict_EncoderLayer_HasPyTorchNamesInStableOrder()
    {
        using var layer = new TransformerEncoderLayer(8, 2, 16);
        Assert.Equal(new[]
        {
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
            "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        }, layer.StateDict().Select(e => e.Name));
    }

    [Fact]
    public void LoadStateDict_WrongShape_ThrowsAndChangesNothing()
    {
        using var a = new Linear(3, 2);
        using var before = a.Weight.Clone();
        using var good = Torch.Ones([2]);
        using var bad = Torch.Ones([3, 3]);
        var error = Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor> { ["bias"] = good, ["weight"] = bad }));
        Assert.Contains("'weight' has shape [3, 3]", error.Message);
        Assert.Equal(before.ToArray<float>(), a.Weight.ToArray<float>());
    }

    [Fact]
    public void LoadStateDict_UnknownOrMissing_NamesTheKey()
    {
        using var a = new Linear(3, 2);
        using var w = Torch.Ones([2, 3]);
        Assert.Contains("weights", Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor> { ["weights"] = w })).Message);
        Assert.Contains("bias", Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = w })).Message);
    }

    [Fact]
    public void MultiheadAttention_HeadsNotDividingWidth_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3));
        Assert.Contains("10", error.Message);
    }

    [Fact]
    public void Dropout_SameGeneratorState_SameMask()
    {
        using var x = Torch.Ones([64]);
        using var g = new Generator(3);
        using var state = g.GetState();
        using var first = Functional.Dropout(x, 0.5, training: true, g);
        g.SetState(state);
        using var second = Functional.Dropout(x, 0.5, training: true, g);
        Assert.Equal(first.ToArray<float>(), second.ToArray<float>());
        Assert.Contains(0f, first.ToArray<float>());
        Assert.Contains(2f, first.ToArray<float>());
    }
}
