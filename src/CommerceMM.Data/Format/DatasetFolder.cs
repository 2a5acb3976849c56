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
    /// The tokenizer of the finished data set in <paramref name="folder"/>, read and checked against its dataset.json: for a
    /// build that keeps it, so that a model trained on that data set reads this one's token ids alike. Read whole before
    /// the build clears its folder, which may be the same one.
    /// </summary>
    /// <exception cref="DatasetException">The folder holds no finished data set, or its tokenizer is not the one it lists.</exception>
    public static (TokenizerSpec Spec, byte[] Bytes) ReadTokenizer(string folder)
    {
        var manifest = DatasetManifest.Read(folder);
        string path = Path.Combine(folder, manifest.Tokenizer.File);
        byte[] bytes = File.Exists(path) ? File.ReadAllBytes(path) : throw new DatasetException($"'{path}' is missing: the data set in '{folder}' has no tokenizer to keep");
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        if (!string.Equals(sha, manifest.Tokenizer.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new DatasetException($"'{path}' is not the tokenizer its dataset.json lists (SHA-256 {sha}, listed {manifest.Tokenizer.Sha256}); restore that data set, or build without --tokenizer-from");
        return (manifest.Tokenizer with { File = TokenizerFile }, bytes);
    }

    /// <summary>The finished data set's size: dataset.json and every file it lists (not a builder's scratch, such as a catalog's image cache).</summary>
    public static long Bytes(string root) =>
        new FileInfo(Path.Combine(root, DatasetManifest.FileName)).Length + DatasetManifest.Read(root).Files().Sum(f => f.Bytes);
}
