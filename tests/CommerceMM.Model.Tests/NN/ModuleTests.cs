using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.NN;

public class ModuleTests
{
    [Fact]
    public void StateDict_EncoderLayer_HasPyTorchNamesInStableOrder()
    {
        using var layer = new EncoderLayer(8, 2, 16);
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
        using var a = Layers.Linear(3, 2, null);
        using var before = a.weight.clone();
        using var good = torch.ones(2);
        using var bad = torch.ones(3, 3);
        var error = Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor> { ["bias"] = good, ["weight"] = bad }));
        Assert.Contains("'weight' has shape [3, 3]", error.Message);
        Assert.Equal(Scalars.ToArray<float>(before), Scalars.ToArray<float>(a.weight));
    }

    [Fact]
    public void LoadStateDict_UnknownOrMissing_NamesTheKey()
    {
        using var a = Layers.Linear(3, 2, null);
        using var w = torch.ones(2, 3);
        Assert.Contains("weights", Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor> { ["weights"] = w })).Message);
        Assert.Contains("bias", Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = w })).Message);
    }

    [Fact]
    public void MultiheadAttention_HeadsNotDividingWidth_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new SelfAttention(10, 3));
        Assert.Contains("10", error.Message);
    }

    [Fact]
    public void Dropout_SameGeneratorState_SameMask()
    {
        using var x = torch.ones(64);
        using var g = new Generator(3);
        using var state = g.get_state();
        using var first = GeneratorDropout.Apply(x, 0.5, training: true, g);
        g.set_state(state);
        using var second = GeneratorDropout.Apply(x, 0.5, training: true, g);
        Assert.Equal(Scalars.ToArray<float>(first), Scalars.ToArray<float>(second));
        Assert.Contains(0f, Scalars.ToArray<float>(first));
        Assert.Contains(2f, Scalars.ToArray<float>(first));
    }

    [Fact]
    public void StateDict_ModuleBuiltInsideADisposeScope_KeepsItsParameters()
    {
        // Modules own their parameters: a scope around the constructor must not free them.
        EncoderLayer layer;
        using (torch.NewDisposeScope())
        {
            using var g = new Generator(1);
            layer = new EncoderLayer(8, 2, 16, generator: g);
        }
        using (layer)
        using (var x = torch.ones(1, 3, 8))
        using (var y = layer.Forward(x))
        {
            Assert.Equal(new long[] { 1, 3, 8 }, y.shape);
            Assert.Equal(12, layer.StateDict().Count);
            Assert.All(layer.StateDict(), e => Assert.False(e.Tensor.IsInvalid));
        }
    }

    [Fact]
    public void StateDict_NestedModules_ParametersThenBuffersPerModuleAsPyTorch()
    {
        using var model = new CommerceMMModel(CommerceMM.Model.Config.CommerceMMConfig.Tiny() with { Mim = new CommerceMM.Model.Config.MimConfig { Prototypes = 8 } }, 1);
        var names = model.StateDict().Select(e => e.Name).ToList();
        Assert.Equal(["logit_scale", "prototypes", "mim_center", "text.token_embedding.weight"], names.Take(4));
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.DoesNotContain(names, n => n.Contains("k__BackingField", StringComparison.Ordinal) || n.Contains("_tied", StringComparison.Ordinal));
        // The tied MLM decoder is the token embedding, stored once.
        Assert.DoesNotContain(names, n => n.StartsWith("mlm_head.", StringComparison.Ordinal) && n.EndsWith("weight", StringComparison.Ordinal) && !n.Contains("dense", StringComparison.Ordinal) && !n.Contains("norm", StringComparison.Ordinal));
    }

    [Fact]
    public void To_ReplacesParameters_TheModelsPropertiesFollow()
    {
        // module.to(device) replaces parameter objects (TorchSharp's ReplaceParameter); a dtype move takes the
        // same path on a CPU-only machine. Properties must see the moved tensors, not disposed ones.
        using var model = new CommerceMMModel(CommerceMM.Model.Config.CommerceMMConfig.Tiny() with { Mim = new CommerceMM.Model.Config.MimConfig { Prototypes = 8 } }, 1);
        model.to(ScalarType.Float64);
        var state = model.StateDict().ToDictionary(e => e.Name, e => e.Tensor);
        foreach (var (name, property) in new (string, Tensor)[]
        {
            ("logit_scale", model.LogitScale), ("prototypes", model.Prototypes), ("mim_center", model.MimCenter),
            ("image.cls_token", model.Image.ClsToken), ("text.token_embedding.weight", model.Text.TokenEmbedding.Weight),
            ("text.encoder.layers.0.self_attn.in_proj_weight", model.Text.Encoder.Layers[0].SelfAttention.InProjWeight),
            ("teacher.prototypes", model.Teacher.Prototypes), ("itm_head.weight", model.Itm.weight),
        })
        {
            Assert.False(property.IsInvalid, name);
            Assert.Equal(ScalarType.Float64, property.dtype);
            Assert.Same(state[name], property);
        }
    }
}
