using System.Text;
using CommerceMM.Data.Format;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Tests;

/// <summary>model.kind picks the model; SCALE's keys are checked by name before anything starts.</summary>
public class ScaleSpecTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];
    private static string ScaleJob => File.ReadAllText(Path.Combine(CmmProcess.RepositoryRoot, "cluster/jobs/fashion-scale-tiny.yaml"));

    [Fact]
    public void ShippedScaleJob_IsValid_WithAllFiveModalities()
    {
        var spec = SpecLoader.Load(ScaleJob, NoEnvironment);
        Assert.Equal("scale", spec.Model.Kind);
        Assert.Equal(["image", "text", "table", "video", "audio"], spec.Model.Modalities);
        Assert.Equal("fashion-scale-tiny", spec.Job.Name);
    }

    [Fact]
    public void Set_ModalitiesAsAFlowList_ReplacesTheList()
    {
        var spec = SpecLoader.Load(ScaleJob, NoEnvironment, ["model.modalities=[image, text]"]);
        Assert.Equal(["image", "text"], spec.Model.Modalities);
        var bare = SpecLoader.Load(ScaleJob, new Dictionary<string, string> { ["CMM_MODEL_MODALITIES"] = "image,text,table" });
        Assert.Equal(["image", "text", "table"], bare.Model.Modalities);
    }

    [Theory]
    [InlineData("model.kind=gpt", "model.kind")]
    [InlineData("model.modalities=[image, smell]", "model.modalities")]
    [InlineData("model.modalities=[image, image]", "model.modalities")]
    [InlineData("model.preset=base", "model.preset")]
    [InlineData("model.prototypes=64", "model.prototypes")]
    [InlineData("model.dropout=1.5", "model.dropout")]
    [InlineData("model.modalities=[image", "model.modalities")]
    public void Load_BadScaleValue_NamesTheKey(string assignment, string key)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(ScaleJob, NoEnvironment, [assignment]));
        Assert.Equal(key, error.Key);
    }

    [Fact]
    public void Load_ScaleWithAllocations_NamesModelAllocations()
    {
        var spec = SpecLoader.Load(ScaleJob, NoEnvironment);
        spec.Model.Allocations.Add(new AllocationEntry { Text = 1, Image = 1, Fusion = 1 });
        Assert.Equal("model.allocations", Assert.Throws<SpecException>(() => SpecValidator.Validate(spec)).Key);
    }

    [Fact]
    public void Load_UnknownScaleTaskWeight_NamesIt()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(ScaleJob, NoEnvironment, ["model.task_weights={itc: 1}"]));
        Assert.StartsWith("model.task_weights", error.Key, StringComparison.Ordinal);
    }

    [Fact]
    public void CommerceMMWithModalities_NamesModelModalities()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, ["model.modalities=[image, text]"]));
        Assert.Equal("model.modalities", error.Key);
    }

    [Fact]
    public void ForData_ModalityNoProductHas_IsAnErrorNamingItAndTheFix()
    {
        using var folder = new TempFolder();
        new DatasetManifest
        {
            Name = "fashion-scale", Fingerprint = "test", Modalities = ["image", "text", "table", "video"],
            Image = new ImageSpec(28, 28, 1, 0.286f, 0.353f),
            Tokenizer = new TokenizerSpec("tokenizer.model", "sentencepiece-unigram", 300, 1, "00"),
            Counts = new Dictionary<string, long> { ["train_image"] = 10, ["train_text"] = 10, ["train_table"] = 10, ["train_video"] = 10, ["video_frames"] = 4, ["audio_mels"] = 32, ["audio_max_frames"] = 96 },
            Streams = new Dictionary<string, StreamInfo> { [StreamNames.Products] = new(SampleSchema.Product, 10, []) },
        }.Write(folder.Path);
        var spec = SpecLoader.Load(ScaleJob, NoEnvironment, [$"data.dir={folder.Path}"]);

        var error = Assert.Throws<SpecException>(() => ScaleConfigFactory.ForData(spec));
        Assert.Equal("model.modalities", error.Key);
        Assert.Contains("'audio' is enabled but no training product", error.Message);
    }

    [Fact]
    public void ForData_CommerceMMDataSet_IsAnErrorNamingDataDir()
    {
        using var folder = new TempFolder();
        new DatasetManifest
        {
            Name = "fashion", Fingerprint = "test", Modalities = ["image", "text"],
            Image = new ImageSpec(28, 28, 1, 0.286f, 0.353f),
            Tokenizer = new TokenizerSpec("tokenizer.model", "sentencepiece-unigram", 300, 1, "00"),
            Counts = new Dictionary<string, long>(),
            Streams = new Dictionary<string, StreamInfo> { [StreamNames.Pairs] = new(SampleSchema.Pair, 10, []) },
        }.Write(folder.Path);
        var spec = SpecLoader.Load(ScaleJob, NoEnvironment, [$"data.dir={folder.Path}"]);

        Assert.Equal("data.dir", Assert.Throws<SpecException>(() => ScaleConfigFactory.ForData(spec)).Key);
    }

    [Fact]
    public void RankState_Version1Record_RestoresWithBothStreams()
    {
        const string v1 = """
            {"version":1,"step":7,"skippedSteps":0,"worldSize":2,"rank":1,
             "pairs":{"version":1,"stream":"pairs","seed":1,"canonicalPartitions":64,"samples":400,"epoch":0,"cursor":0,"offset":28,"worldSize":2},
             "omni":{"version":1,"stream":"omni","seed":1,"canonicalPartitions":64,"samples":1200,"epoch":0,"cursor":0,"offset":28,"worldSize":2},
             "dropoutGenerator":"AAEC"}
            """;
        var state = RankState.Parse(Encoding.UTF8.GetBytes(v1), "state.json");
        Assert.Equal(7, state.Step);
        Assert.Equal(["omni", "pairs"], state.Streams.Keys.Order());
        Assert.Equal(28, state.Streams["pairs"].Offset);
        Assert.Equal([0, 1, 2], state.DropoutGenerator);

        var again = RankState.Parse(state.ToJsonBytes(), "state.json");
        Assert.Equal(RankState.CurrentVersion, again.Version);
        Assert.Equal(1200, again.Streams["omni"].Samples);
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => RankState.Parse("{\"version\":9}"u8, "x")).Message);
    }

    [Fact]
    public void SkipReasonLabels_EveryLoaderReason_IsAnAllowedMetricLabel()
    {
        var labels = Enum.GetValues<Data.Loading.SkipReason>().Select(Worker.Training.SkipReasonLabels.For).ToList();
        Assert.Equal(Observability.Metrics.SkipReasons.All.Order(), labels.Order());
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("cmm-scale-spec-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
