using CommerceMM.Data.Text;

namespace CommerceMM.Data.Tests.Text;

public class SentencePieceTokenizerTests
{
    [Fact]
    public async Task EncodeDecode_MultilingualText_RoundTrips()
    {
        var built = await SmallDataset.GetAsync();
        using var tokenizer = SentencePieceTokenizer.Load(Path.Combine(built.Directory, built.Manifest.Tokenizer.File));

        foreach (string text in new[] { "Nordvik dark patterned dress", "Vestido de tono oscuro con estampado", "Stiefelette von Feldhaus, Schnitt weit. 89,99 €" })
        {
            int[] ids = tokenizer.Encode(text);
            Assert.NotEmpty(ids);
            Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
            Assert.Equal(text, tokenizer.Decode(ids));
        }
    }

    [Fact]
    public async Task Load_TrainedModel_HasFixedSpecialIdsAndRequestedVocabulary()
    {
        var built = await SmallDataset.GetAsync();
        using var tokenizer = SentencePieceTokenizer.Load(Path.Combine(built.Directory, built.Manifest.Tokenizer.File));

        Assert.Equal((0, 1, 2, 3, 4), (tokenizer.PadId, tokenizer.UnkId, tokenizer.ClsId, tokenizer.SepId, tokenizer.MaskId));
        Assert.Equal(built.Manifest.Tokenizer.VocabSize, tokenizer.VocabSize);
        Assert.InRange(tokenizer.VocabSize, 100, 400);
    }

    [Fact]
    public async Task Decode_IdOutsideVocabulary_ThrowsWithNativeMessage()
    {
        var built = await SmallDataset.GetAsync();
        using var tokenizer = SentencePieceTokenizer.Load(Path.Combine(built.Directory, built.Manifest.Tokenizer.File));

        var error = Assert.Throws<TokenizerException>(() => tokenizer.Decode([5, 1_000_000]));
        Assert.Contains("1000000", error.Message);
    }

    [Fact]
    public void Load_NotAModel_ThrowsTokenizerException()
    {
        using var dir = new TempDirectory("badspm");
        string path = Path.Combine(dir.Path, "bad.model");
        File.WriteAllText(path, "not a protobuf");
        Assert.Throws<TokenizerException>(() => SentencePieceTokenizer.Load(path));
        Assert.Throws<TokenizerException>(() => SentencePieceTokenizer.Load(Path.Combine(dir.Path, "missing.model")));
    }

    [Fact]
    public async Task TrainAsync_TheSameCorpusInTwoFolders_GivesTheSameModelBytes()
    {
        using var dir = new TempDirectory("spmfolders");
        string[] lines = [.. Enumerable.Range(0, 200).Select(i => $"linen shirt {i % 7} relaxed fit white cotton dress number {i}")];
        var models = new List<byte[]>();
        foreach (string folder in new[] { "a", Path.Combine("somewhere", "much", "deeper") })
        {
            string root = Directory.CreateDirectory(Path.Combine(dir.Path, folder)).FullName;
            string corpus = Path.Combine(root, "corpus.txt");
            await File.WriteAllLinesAsync(corpus, lines);
            models.Add(await File.ReadAllBytesAsync(await SentencePieceTrainer.TrainAsync(corpus, Path.Combine(root, "tokenizer"), 64, 1)));
        }
        Assert.Equal(models[0], models[1]);
        Assert.DoesNotContain(dir.Path, System.Text.Encoding.UTF8.GetString(models[0])); // no path of the build's in the model
    }

    [Fact]
    public async Task TrainAsync_ACorpusOverTheLimit_LearnsFromASampleOfItsLines_TheSameOneEveryTime()
    {
        using var dir = new TempDirectory("spmsample");
        string corpus = Path.Combine(dir.Path, "corpus.txt");
        await File.WriteAllLinesAsync(corpus, Enumerable.Range(0, 3000).Select(i => $"product {i} in colour {i % 13} size {i % 7} made of fabric {i % 29}"));
        long bytes = new FileInfo(corpus).Length;
        // The model records its own name: each goes into a folder of its own under the same one.
        async Task<byte[]> Train(string folder, long limit) => await File.ReadAllBytesAsync(await SentencePieceTrainer.TrainAsync(
            corpus, Path.Combine(Directory.CreateDirectory(Path.Combine(dir.Path, folder)).FullName, "tokenizer"), 64, 1, maxCorpusBytes: limit));

        byte[] whole = await Train("whole", SentencePieceTrainer.DefaultMaxCorpusBytes), atTheLimit = await Train("at-limit", bytes);
        byte[] sampled = await Train("sampled", bytes / 10), again = await Train("again", bytes / 10);

        Assert.Equal(whole, atTheLimit);
        Assert.NotEqual(whole, sampled);
        Assert.Equal(sampled, again);
    }

    [Fact]
    public async Task TrainAsync_EmptyCorpus_ThrowsBeforeRunningSpmTrain()
    {
        using var dir = new TempDirectory("emptycorpus");
        string corpus = Path.Combine(dir.Path, "corpus.txt");
        File.WriteAllText(corpus, "");
        var error = await Assert.ThrowsAsync<TokenizerException>(() => SentencePieceTrainer.TrainAsync(corpus, Path.Combine(dir.Path, "m"), 100, 1));
        Assert.Contains("empty", error.Message);
    }
}
