using CommerceMM.Model.Config;

namespace CommerceMM.Model.Tests;

public class ConfigValidationTests
{
    public static TheoryData<string, CommerceMMConfig> BadConfigs => new()
    {
        { "model.heads", CommerceMMConfig.Tiny() with { Heads = 3 } },
        { "model.image.patch", CommerceMMConfig.Tiny() with { Image = new ImageConfig { Patch = 5 } } },
        { "model.allocations[0].text", CommerceMMConfig.Tiny() with { Allocations = [new Allocation(3, 1, 1)] } },
        { "model.allocations[1].fusion", CommerceMMConfig.Tiny() with { Allocations = [new Allocation(1, 1, 1), new Allocation(1, 1, 2)] } },
        { "model.task_weights.itx", CommerceMMConfig.Tiny() with { TaskWeights = new Dictionary<string, double> { ["itx"] = 1 } } },
        { "model.task_weights.mlm", CommerceMMConfig.Tiny() with { TaskWeights = new Dictionary<string, double> { ["mlm"] = -0.5 } } },
        { "model.text.mask_id", CommerceMMConfig.Tiny() with { Text = new TextConfig { VocabSize = 4, MaskId = 4 } } },
        { "model.dim", CommerceMMConfig.Tiny() with { Dim = 0 } },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Validate_InconsistentConfig_NamesTheKey(string key, CommerceMMConfig config)
    {
        var error = Assert.Throws<ConfigException>(() => config.Validate());
        Assert.Equal(key, error.Key);
        Assert.StartsWith(key + ":", error.Message);
    }

    [Fact]
    public void Model_BadConfig_RejectedWithTheKey()
    {
        var error = Assert.Throws<ConfigException>(() => new CommerceMMModel(CommerceMMConfig.Tiny() with { Heads = 3 }, 1));
        Assert.Equal("model.heads", error.Key);
    }

    [Theory]
    [InlineData(28, "tiny,small")]    // their own images
    [InlineData(56, "tiny,small")]    // 64 and 196 patches: 4 times their own
    [InlineData(112, "base")]         // tiny 256 patches and small 784: too many; base 49, fewer than its own
    [InlineData(224, "base")]
    [InlineData(60, "")]              // small 225 patches: too many; neither 7 nor 16 divides it
    public void PresetsSizedFor_AnImageSide_AreThoseNotCuttingItIntoFarMorePatchesThanTheirOwn(int side, string expected) =>
        Assert.Equal(expected, string.Join(",", CommerceMMConfig.PresetsSizedFor(side)));

    [Fact]
    public void Presets_AreValid_AndTaskListHasFourteenIds()
    {
        foreach (var name in new[] { "tiny", "small", "base" }) CommerceMMConfig.Preset(name).Validate();
        Assert.Equal(14, TaskIds.All.Count);
        Assert.Equal(14, TaskIds.All.Distinct().Count());
        Assert.Contains("omni_t2m", TaskIds.Pass2);
    }
}
