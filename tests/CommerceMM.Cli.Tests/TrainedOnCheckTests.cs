using CommerceMM.Data.Format;
using CommerceMM.Data.Loading;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Tests;

public class TrainedOnCheckTests
{
    private const string Trained = "aa11223344556677889900aabbccddeeff00112233445566778899aabbccddee";

    private static DatasetManifest Data(string tokenizerSha256, long pairs, long omni) => new()
    {
        Name = "shop", Fingerprint = "test", Modalities = ["image", "text"],
        Image = new ImageSpec(28, 28, 1, 0.3f, 0.3f),
        Tokenizer = new TokenizerSpec("tokenizer.model", "sentencepiece-unigram", 300, 1, tokenizerSha256),
        Counts = new Dictionary<string, long>(),
        Streams = new Dictionary<string, StreamInfo> { [StreamNames.Pairs] = new(SampleSchema.Pair, pairs, []), [StreamNames.Omni] = new(SampleSchema.Omni, omni, []) },
    };

    private static LoaderPosition Position(string stream, long samples) =>
        new() { Stream = stream, Seed = 1, CanonicalPartitions = 64, Samples = samples, Epoch = 0, Cursor = 0, Offset = 3, WorldSize = 2 };

    private static RankState State(string? tokenizer) => new()
    {
        Step = 20, SkippedSteps = 0, WorldSize = 2, Rank = 0, DropoutGenerator = [], TokenizerSha256 = tokenizer,
        Streams = new Dictionary<string, LoaderPosition> { [StreamNames.Pairs] = Position(StreamNames.Pairs, 960), [StreamNames.Omni] = Position(StreamNames.Omni, 1920) },
    };

    [Fact]
    public void Tokenizer_OfADataSetRebuiltSince_IsRefusedNamingBothAndTheFix()
    {
        var error = Assert.Throws<CheckpointException>(() => TrainedOnCheck.Tokenizer(State(Trained), 20, "data/shop", Data("bdd7a596daf199d313cdbb8e7a1e72a3944084060dfe7d68cfe9e22504f9be69", 960, 1920), "shop"));

        Assert.Equal("checkpoint step-20 was trained with another tokenizer than the data set in 'data/shop' has (SHA-256 aa1122334455…, the data set's bdd7a596daf1…): " +
                     "the model's token ids would stand for other words; " +
                     "resume on the data set it was trained on (data.dir); or build this data set with the tokenizer it trained with " +
                     "(cmm data build catalog … --tokenizer-from: that data set, or the tokenizer `cmm checkpoints export` writes beside the weights) and start a new job from this one's weights: --set job.name=NEW --set job.init_from=shop; " +
                     "or train a new job from the seed: --set job.name=NEW", error.Message);
    }

    [Fact]
    public void Tokenizer_OfTheJobANewOneStartsFrom_IsRefusedNamingThatJobAndHowToKeepItsTokenizer()
    {
        var error = Assert.Throws<CheckpointException>(() =>
            TrainedOnCheck.Tokenizer(State(Trained), 20, "data/shop-v2", Data("bdd7a596daf199d313cdbb8e7a1e72a3944084060dfe7d68cfe9e22504f9be69", 1000, 2000), "shop-v1", CheckpointUse.InitFrom));

        Assert.Equal("job.init_from: job 'shop-v1''s checkpoint step-20 was trained with another tokenizer than the data set in 'data/shop-v2' has " +
                     "(SHA-256 aa1122334455…, the data set's bdd7a596daf1…): the model's token ids would stand for other words; " +
                     "build this data set with the tokenizer it trained with (cmm data build catalog … --tokenizer-from: that data set, " +
                     "or the tokenizer `cmm checkpoints export` writes beside the weights), or start from the seed (no job.init_from)",
                     error.Message);
    }

    [Fact]
    public void Tokenizer_OfACheckpointToEvaluate_AdvisesTheDataSetItTrainedOn()
    {
        var error = Assert.Throws<CheckpointException>(() =>
            TrainedOnCheck.Tokenizer(State(Trained), 20, "data/shop", Data("bdd7a596daf199d313cdbb8e7a1e72a3944084060dfe7d68cfe9e22504f9be69", 960, 1920), "shop", CheckpointUse.Evaluate));

        Assert.EndsWith("the model's token ids would stand for other words; evaluate it on the data set it was trained on (data.dir), or build this data set " +
                        "with the tokenizer it trained with (cmm data build catalog … --tokenizer-from: that data set, or the tokenizer `cmm checkpoints export` writes beside the weights)",
                        error.Message);
    }

    [Theory]
    [InlineData(Trained)]
    [InlineData("AA11223344556677889900AABBCCDDEEFF00112233445566778899AABBCCDDEE")]
    [InlineData(null)]   // a checkpoint from before the tokenizer was recorded
    public void Tokenizer_TheSameOrUnrecorded_Passes(string? recorded) =>
        TrainedOnCheck.Tokenizer(State(recorded), 20, "data/shop", Data(Trained, 960, 1920), "shop");

    [Theory]
    [InlineData(960, 1940, "omni", "1,920", "1,940")]
    [InlineData(1000, 1920, "pairs", "960", "1,000")]
    public void Streams_ACountChanged_IsRefusedNamingTheStreamAndBothCounts(long pairs, long omni, string stream, string then, string now)
    {
        var error = Assert.Throws<CheckpointException>(() => TrainedOnCheck.Streams(State(Trained), 20, "data/shop", Data(Trained, pairs, omni), "shop"));

        Assert.Equal($"checkpoint step-20 read stream '{stream}' of {then} samples; the data set in 'data/shop' now holds {now}, so its place in the epoch " +
                     "cannot be found again (the data set was rebuilt or replaced); start a new job on it from this one's weights: --set job.name=NEW --set job.init_from=shop, " +
                     "or resume on the data set it was trained on (data.dir)",
                     error.Message);
    }

    [Fact]
    public void Streams_TheSameCounts_Pass() => TrainedOnCheck.Streams(State(Trained), 20, "data/shop", Data(Trained, 960, 1920), "shop");
}
