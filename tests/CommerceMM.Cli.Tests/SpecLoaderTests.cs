using System.Globalization;
using CommerceMM.Model.Config;
using CommerceMM.Scale.Config;
using CommerceMM.Cli.Hosting;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Tests;

public class SpecLoaderTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void EmbeddedDefault_IsValid_AndMatchesTheClusterFile()
    {
        var spec = SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment);
        Assert.Equal("fashion-tiny", spec.Job.Name);
        Assert.Equal(4, spec.Model.Allocations.Count);
    }

    [Fact]
    public void Load_UnknownKey_NamesIt()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("data:\n  batch_sise: 4\n", NoEnvironment));
        Assert.Equal("data.batch_sise", error.Key);
    }

    [Fact]
    public void Load_WrongType_NamesTheKey()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("job:\n  workers: many\n", NoEnvironment));
        Assert.Equal("job.workers", error.Key);
    }

    [Theory]
    [InlineData("job:\n  workers: [1\nmodel: {}\n", "not valid YAML: the parser stopped")]   // YamlDotNet throws InvalidOperationException here
    [InlineData("job:\n  name: \"x\n", "not valid YAML at line 2, column 9")]
    public void Load_BrokenYaml_IsASpecErrorNotACrash(string yaml, string expected)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(yaml, NoEnvironment));
        Assert.Equal("spec", error.Key);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EnvironmentThenSet_OverrideInThatOrder()
    {
        var environment = new Dictionary<string, string> { ["CMM_DATA_BATCH_SIZE"] = "7", ["CMM_JOB_MAX_STEPS"] = "500" };
        var spec = SpecLoader.Load("data:\n  batch_size: 3\n", environment, ["job.max_steps=900"]);
        Assert.Equal(7, spec.Data.BatchSize);
        Assert.Equal(900, spec.Job.MaxSteps);
    }

    [Fact]
    public void Load_SetUnknownKey_ListsSettableKeys()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, ["data.batchsize=3"]));
        Assert.Contains("data.batch_size", error.Message);
    }

    [Theory]
    [InlineData("model.preset=huge", "model.preset")]
    [InlineData("job.name=../etc", "job.name")]
    [InlineData("checkpoint.store=s3://bucket", "checkpoint.store")]
    [InlineData("optimizer.lr=-1", "optimizer.lr")]
    [InlineData("job.min_workers=5", "job.min_workers")]
    [InlineData("job.max_restarts=-1", "job.max_restarts")]
    [InlineData("job.silo_probe_timeout_seconds=0", "job.silo_probe_timeout_seconds")]
    [InlineData("job.silo_table_refresh_seconds=-5", "job.silo_table_refresh_seconds")]
    [InlineData("job.init_from=../etc", "job.init_from")]
    [InlineData("job.init_from=fashion-tiny", "job.init_from")]   // the job itself
    public void Load_BadValue_NamesTheKey(string assignment, string key)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, [assignment]));
        Assert.Equal(key, error.Key);
    }

    [Fact]
    public void Load_DeviceAndPrecision_DefaultToCpuFp32_AndComeFromTheEnvironment()
    {
        var defaults = SpecLoader.Load("", NoEnvironment);
        Assert.Equal(("cpu", "fp32"), (defaults.Job.Device, defaults.Model.Precision));

        var environment = new Dictionary<string, string> { ["CMM_JOB_DEVICE"] = "cuda:1", ["CMM_MODEL_PRECISION"] = "bf16" };
        var spec = SpecLoader.Load("", environment);
        Assert.Equal(("cuda:1", "bf16"), (spec.Job.Device, spec.Model.Precision));
        Assert.Contains("job.device", SpecLoader.SettableKeys);
        Assert.Contains("model.precision", SpecLoader.SettableKeys);
    }

    [Theory]
    [InlineData("job.device=gpu", "job.device")]
    [InlineData("job.device=cuda:-1", "job.device")]
    [InlineData("model.precision=fp16", "model.precision")]
    public void Load_BadDeviceOrPrecision_NamesTheKeyOnce(string assignment, string key)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, [assignment]));
        Assert.Equal(key, error.Key);
        Assert.StartsWith($"{key}: '", error.Message);
    }

    [Fact]
    public void Load_BadModelShape_NamesTheModelKey()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("model:\n  allocations:\n    - {text: 9, image: 1, fusion: 1}\n", NoEnvironment));
        Assert.Equal("model.allocations[0].text", error.Key);
    }

    [Fact]
    public void ToYaml_SaysTheValuesAModelTakesForKeysTheSpecLeftUnset_AndLeavesOutTheOtherKindsKeys()
    {
        var commercemm = SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment, ["model.preset=small"]);
        var small = CommerceMMConfig.Preset("small");
        string yaml = SpecLoader.ToYaml(commercemm);
        Assert.Contains($"\n  prototypes: {small.Mim.Prototypes}\n", yaml);
        Assert.Contains($"\n  dropout: {small.Dropout.ToString(CultureInfo.InvariantCulture)}\n", yaml);
        Assert.DoesNotContain("masked_weight_gradient", yaml);
        Assert.Null(commercemm.Model.Dropout);   // the spec itself is left as it was loaded

        var scale = SpecLoader.Load(
            "model:\n  kind: scale\n  dropout: 0.25\ndata:\n  dir: data/fashion-scale\n", NoEnvironment);
        yaml = SpecLoader.ToYaml(scale);
        Assert.Contains("\n  dropout: 0.25\n", yaml);
        Assert.Contains($"\n  masked_weight_gradient: {ScaleConfig.Tiny().MaskedWeightGradient.ToString().ToLowerInvariant()}\n", yaml);
        Assert.Contains("\n  modalities:\n  - image\n  - text\n", yaml);
        Assert.DoesNotContain("prototypes", yaml);
    }

    [Fact]
    public void SpecJson_RoundTrips()
    {
        var spec = SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment, ["data.batch_size=5"]);
        var back = SpecJson.FromJson(SpecJson.ToJson(spec));
        Assert.Equal(SpecLoader.ToYaml(spec), SpecLoader.ToYaml(back));
    }
}
