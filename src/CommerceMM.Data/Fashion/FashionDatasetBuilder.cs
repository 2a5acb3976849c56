using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CommerceMM.Data.Format;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Fashion;

/// <summary>
/// Builds the commerce corpus from Fashion-MNIST: one product per photo, the four streams
/// (pairs, omni, eval_pairs, eval_omni) as tar shards, a SentencePiece tokenizer trained on the
/// training text, and <c>dataset.json</c> written last. Re-running with the same options is a no-op.
/// </summary>
public static class FashionDatasetBuilder
{
    public const string DatasetName = "fashion-commerce";

    /// <summary>Bump when the output for the same options changes, so old folders are rebuilt, not reused.</summary>
    private const int BuilderVersion = 1;

    private static readonly string[] OwnedPaths =
        [StreamNames.Pairs, StreamNames.Omni, StreamNames.EvalPairs, StreamNames.EvalOmni, DatasetFolder.TokenizerFile, "tokenizer.vocab", "tokenizer-corpus.txt"];

    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="FileNotFoundException">Fashion-MNIST is missing (the message names the Debian package).</exception>
    /// <exception cref="TokenizerException">spm_train is missing or failed.</exception>
    /// <exception cref="DatasetException">The folder holds a different finished data set and <see cref="FashionDatasetOptions.Overwrite"/> is off.</exception>
    public static async Task<BuildResult> BuildAsync(FashionDatasetOptions options, IProgress<BuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        string root = Path.GetFullPath(options.OutputDirectory);

        // Every check that can fail runs before anything is written.
        foreach (var split in new[] { FashionSplit.Train, FashionSplit.Test })
        {
            var (images, labels) = FashionMnistReader.Files(options.SourceDirectory, split);
            foreach (string f in new[] { images, labels })
                if (!File.Exists(f))
                    throw new FileNotFoundException($"Fashion-MNIST file '{f}' is missing; install the Debian package '{FashionMnistReader.DebianPackage}' (apt-get install {FashionMnistReader.DebianPackage}, or run tools/bootstrap)", f);
        }
        SentencePieceTrainer.EnsureAvailable();
        using var building = await BuildLock.TakeAsync(root, progress, cancellationToken).ConfigureAwait(false);
        string fingerprint = Fingerprint(options);
        if (DatasetFolder.Prepare(root, fingerprint, options.Overwrite, OwnedPaths) is { } existing)
        {
            progress?.Report(new BuildProgress(BuildStage.Done, 1, 1, "already built"));
            return new BuildResult(root, existing, UpToDate: true, clock.Elapsed, DatasetFolder.Bytes(root));
        }

        progress?.Report(new BuildProgress(BuildStage.Reading, 0, 2, "reading Fashion-MNIST"));
        var train = FashionMnistReader.Read(options.SourceDirectory, FashionSplit.Train, options.TrainLimit ?? int.MaxValue);
        var test = FashionMnistReader.Read(options.SourceDirectory, FashionSplit.Test, options.EvalLimit ?? int.MaxValue);
        progress?.Report(new BuildProgress(BuildStage.Reading, 2, 2, $"{train.Count} train and {test.Count} test photos"));

        string corpusPath = Path.Combine(root, "tokenizer-corpus.txt");
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var streams = new SortedDictionary<string, StreamInfo>(StringComparer.Ordinal);
        using (var corpus = new StreamWriter(corpusPath, append: false, new UTF8Encoding(false)))
        {
            WriteSplit(root, options, FashionSplit.Train, train, StreamNames.Pairs, StreamNames.Omni, corpus, streams, counts, progress, cancellationToken);
        }
        WriteSplit(root, options, FashionSplit.Test, test, StreamNames.EvalPairs, StreamNames.EvalOmni, null, streams, counts, progress, cancellationToken);

        progress?.Report(new BuildProgress(BuildStage.Tokenizer, 0, 1, "training the SentencePiece tokenizer"));
        var tokenizer = await DatasetFolder.TrainTokenizerAsync(root, corpusPath, options.VocabSize, options.Seed, cancellationToken).ConfigureAwait(false);
        progress?.Report(new BuildProgress(BuildStage.Tokenizer, 1, 1, $"vocabulary of {tokenizer.VocabSize} pieces"));

        progress?.Report(new BuildProgress(BuildStage.Manifest, 0, 1, "writing dataset.json"));
        var first = train.Count > 0 ? train[0].Image : test[0].Image;
        var manifest = new DatasetManifest
        {
            Name = DatasetName,
            Fingerprint = fingerprint,
            Modalities = [Modality.Image, Modality.Text],
            // Normalisation constants of the Fashion-MNIST training set (pixel mean and std on 0..1).
            Image = new ImageSpec(first.Width, first.Height, Channels: 1, Mean: 0.2860f, Std: 0.3530f),
            Tokenizer = tokenizer,
            Counts = counts,
            Streams = streams,
        };
        manifest.Write(root);
        progress?.Report(new BuildProgress(BuildStage.Done, 1, 1, "done"));
        return new BuildResult(root, manifest, UpToDate: false, clock.Elapsed, DatasetFolder.Bytes(root));
    }

    private static void WriteSplit(
        string root, FashionDatasetOptions options, FashionSplit split, IReadOnlyList<(Imaging.GrayImage Image, int Label)> photos,
        string pairStream, string omniStream, StreamWriter? corpus,
        IDictionary<string, StreamInfo> streams, IDictionary<string, long> counts, IProgress<BuildProgress>? progress, CancellationToken cancellationToken)
    {
        var stage = split == FashionSplit.Train ? BuildStage.Train : BuildStage.Eval;
        string prefix = split == FashionSplit.Train ? "fm-train-" : "fm-test-";
        using var pairs = new ShardWriter(root, pairStream, SampleSchema.Pair, options.SamplesPerShard);
        using var omni = new ShardWriter(root, omniStream, SampleSchema.Omni, options.SamplesPerShard);
        long done = 0;
        int reportEvery = Math.Max(1, photos.Count / 100);
        // Products are made in parallel but written in photo order, so the shards do not depend on Workers.
        var built = photos
            .Select((photo, index) => (photo, index))
            .AsParallel().AsOrdered()
            .WithDegreeOfParallelism(options.Workers)
            .WithCancellation(cancellationToken)
            .Select(item =>
            {
                var product = ProductAttributes.Derive(prefix + item.index.ToString("D5", CultureInfo.InvariantCulture), split, item.index, item.photo.Image, item.photo.Label);
                return FashionSamples.Build(product, options.Seed, options.JpegQuality);
            });
        foreach (var samples in built)
        {
            pairs.Add(samples.Pair);
            foreach (var o in samples.Omni) omni.Add(o);
            if (corpus is not null) foreach (string line in samples.CorpusLines) corpus.WriteLine(line);
            if (++done % reportEvery == 0 || done == photos.Count)
                progress?.Report(new BuildProgress(stage, done, photos.Count, $"{split.ToString().ToLowerInvariant()} products"));
        }
        streams[pairStream] = pairs.Finish();
        streams[omniStream] = omni.Finish();
        counts[$"{split.ToString().ToLowerInvariant()}_products"] = photos.Count;
        counts[$"{pairStream}_samples"] = streams[pairStream].Samples;
        counts[$"{omniStream}_samples"] = streams[omniStream].Samples;
    }

    /// <summary>Hash of everything that determines the output (Workers does not).</summary>
    private static string Fingerprint(FashionDatasetOptions o)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"fashion-builder-v{BuilderVersion}|seed={o.Seed}|train={o.TrainLimit}|eval={o.EvalLimit}|vocab={o.VocabSize}|shard={o.SamplesPerShard}|q={o.JpegQuality}");
        foreach (var split in new[] { FashionSplit.Train, FashionSplit.Test })
        {
            var (images, labels) = FashionMnistReader.Files(o.SourceDirectory, split);
            text.Append(CultureInfo.InvariantCulture, $"|{new FileInfo(images).Length}|{new FileInfo(labels).Length}");
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
