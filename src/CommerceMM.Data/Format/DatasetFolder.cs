using CommerceMM.Data.Text;

namespace CommerceMM.Data.Format;

/// <summary>What every builder does to its output folder before and after writing the shards.</summary>
internal static class DatasetFolder
{
    public const string TokenizerFile = "tokenizer.model";

    /// <summary>
    /// Readies <paramref name="root"/> (under the caller's <see cref="BuildLock"/>): returns the finished data set when it
    /// was built from the same inputs (nothing to do); otherwise clears the paths the builder owns, leftovers of an
    /// interrupted build, and returns null.
    /// </summary>
    /// <exception cref="DatasetException">The folder holds a data set built from other inputs and <paramref name="overwrite"/> is off.</exception>
    public static DatasetManifest? Prepare(string root, string fingerprint, bool overwrite, IEnumerable<string> ownedPaths)
    {
        if (File.Exists(Path.Combine(root, DatasetManifest.FileName)))
        {
            var existing = DatasetManifest.Read(root);
            if (existing.Fingerprint == fingerprint) return existing;
            if (!overwrite)
                throw new DatasetException($"'{root}' already holds a data set built from other inputs (options or source files); choose another output folder, or replace it with --overwrite");
            File.Delete(Path.Combine(root, DatasetManifest.FileName)); // from here on the folder is "unfinished"
        }
        Directory.CreateDirectory(root);
        foreach (string owned in ownedPaths)
        {
            string path = Path.Combine(root, owned);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }
        return null;
    }

    /// <summary>Trains the SentencePiece tokenizer on the corpus file (then deletes it) and describes the model for dataset.json.</summary>
    public static async Task<TokenizerSpec> TrainTokenizerAsync(string root, string corpusPath, int vocabSize, ulong seed, CancellationToken cancellationToken)
    {
        string prefix = Path.Combine(root, Path.GetFileNameWithoutExtension(TokenizerFile));
        await SentencePieceTrainer.TrainAsync(corpusPath, prefix, vocabSize, (uint)(seed & 0x7FFFFFFF), cancellationToken: cancellationToken).ConfigureAwait(false);
        File.Delete(corpusPath);
        int vocab;
        using (var tokenizer = SentencePieceTokenizer.Load(Path.Combine(root, TokenizerFile))) vocab = tokenizer.VocabSize;
        var file = Sha256File.Describe(root, TokenizerFile);
        return new TokenizerSpec(TokenizerFile, "sentencepiece-unigram", vocab, file.Bytes, file.Sha256);
    }

    /// <summary>
    /// The tokenizer a build keeps (--tokenizer-from), so that a model trained with it reads this data set's token ids
    /// alike: a finished data set's (checked against its dataset.json), or a tokenizer file a checkpoint export wrote.
    /// Read whole before the build clears its folder, which may be the one it came from.
    /// </summary>
    /// <exception cref="DatasetException">Neither a finished data set nor a SentencePiece model, or not the bytes its dataset.json lists.</exception>
    public static (TokenizerSpec Spec, byte[] Bytes) ReadTokenizer(string source)
    {
        if (File.Exists(source))
        {
            int vocab;
            try { using (var tokenizer = SentencePieceTokenizer.Load(source)) vocab = tokenizer.VocabSize; }
            catch (TokenizerException e) { throw new DatasetException($"--tokenizer-from '{source}' is not a SentencePiece model: {e.Message}"); }
            byte[] bytes = File.ReadAllBytes(source);
            return (new TokenizerSpec(TokenizerFile, "sentencepiece-unigram", vocab, bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))), bytes);
        }
        const string Fix = "name the folder of the data set whose tokenizer to keep, or the .tokenizer.model that `cmm checkpoints export` wrote";
        if (!Directory.Exists(source)) throw new DatasetException($"--tokenizer-from '{source}' does not exist: {Fix}");
        if (!File.Exists(Path.Combine(source, DatasetManifest.FileName)))
            throw new DatasetException($"--tokenizer-from '{source}' is not a finished data set (no {DatasetManifest.FileName}): {Fix}");
        var manifest = DatasetManifest.Read(source);
        return (manifest.Tokenizer with { File = TokenizerFile }, DatasetTokenizer.Read(source, manifest));
    }

    /// <summary>The finished data set's size: dataset.json and every file it lists (not a builder's scratch, such as a catalog's image cache).</summary>
    public static long Bytes(string root) =>
        new FileInfo(Path.Combine(root, DatasetManifest.FileName)).Length + DatasetManifest.Read(root).Files().Sum(f => f.Bytes);
}
