using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Scale;

/// <summary>
/// Builds the five-modality SCALE corpus (MODEL.md §8) from the same Fashion-MNIST photos: streams
/// <c>products</c> and <c>eval_products</c> in the shared tar shard format, a SentencePiece tokenizer
/// trained on the text and table strings, and <c>dataset.json</c> written last. Video and audio shapes
/// are recorded in the manifest's counts (video_frames, audio_mels, audio_max_frames, audio_sample_rate).
/// Re-running with the same options is a no-op.
/// </summary>
public static class ScaleDatasetBuilder
{
    public const string DatasetName = "fashion-scale";
    private const int BuilderVersion = 1;

    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="FileNotFoundException">Fashion-MNIST is missing.</exception>
    /// <exception cref="InvalidOperationException">Audio is wanted but espeak-ng is missing or failed.</exception>
    /// <exception cref="DatasetException">The folder holds a different data set and overwriting is off.</exception>
    public static async Task<BuildResult> BuildAsync(ScaleDatasetOptions options, IProgress<BuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var catalog = options.Catalog;
        var clock = Stopwatch.StartNew();
        string root = Path.GetFullPath(catalog.OutputDirectory);
        foreach (var split in new[] { FashionSplit.Train, FashionSplit.Test })
            foreach (string f in new[] { FashionMnistReader.Files(catalog.SourceDirectory, split).Images, FashionMnistReader.Files(catalog.SourceDirectory, split).Labels })
                if (!File.Exists(f)) throw new FileNotFoundException($"Fashion-MNIST file '{f}' is missing; install the Debian package '{FashionMnistReader.DebianPackage}'", f);
        SentencePieceTrainer.EnsureAvailable();
        bool audio = options.Modalities.Contains(Modality.Audio) && options.AudioLimit > 0;
        int sampleRate = audio ? SpeechSynthesizer.Speak("ok", "en").SampleRate : 22050;   // fails early, and names espeak-ng, when it is missing

        using var building = await BuildLock.TakeAsync(root, progress, cancellationToken).ConfigureAwait(false);
        string fingerprint = Fingerprint(options);
        string[] owned = [StreamNames.Products, StreamNames.EvalProducts];
        if (DatasetFolder.Prepare(root, fingerprint, catalog.Overwrite, owned) is { } existing)
            return new BuildResult(root, existing, UpToDate: true, clock.Elapsed, 0);

        var train = FashionMnistReader.Read(catalog.SourceDirectory, FashionSplit.Train, catalog.TrainLimit ?? int.MaxValue);
        var test = FashionMnistReader.Read(catalog.SourceDirectory, FashionSplit.Test, catalog.EvalLimit ?? int.MaxValue);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            ["video_frames"] = options.VideoFrames, ["audio_mels"] = options.Mel.Mels,
            ["audio_max_frames"] = options.Mel.MaxFrames, ["audio_sample_rate"] = sampleRate,
        };
        var streams = new SortedDictionary<string, StreamInfo>(StringComparer.Ordinal);
        string corpusPath = Path.Combine(root, "tokenizer-corpus.txt");
        using (var mel = audio ? new LogMel(options.Mel, sampleRate) : null)
        {
            using (var corpus = new StreamWriter(corpusPath, append: false, new UTF8Encoding(false)))
                WriteSplit(root, options, mel, FashionSplit.Train, train, StreamNames.Products, corpus, streams, counts, progress, cancellationToken);
            WriteSplit(root, options, mel, FashionSplit.Test, test, StreamNames.EvalProducts, null, streams, counts, progress, cancellationToken);
        }

        progress?.Report(new BuildProgress(BuildStage.Tokenizer, 0, 1, "training the SentencePiece tokenizer"));
        var tokenizer = await DatasetFolder.TrainTokenizerAsync(root, corpusPath, catalog.VocabSize, catalog.Seed, cancellationToken).ConfigureAwait(false);
        var first = train.Count > 0 ? train[0].Image : test[0].Image;
        var manifest = new DatasetManifest
        {
            Name = DatasetName,
            Fingerprint = fingerprint,
            Modalities = Modality.Known.Where(options.Modalities.Contains).ToArray(),
            Image = new ImageSpec(first.Width, first.Height, Channels: 1, Mean: 0.2860f, Std: 0.3530f),
            Tokenizer = tokenizer,
            Counts = counts,
            Streams = streams,
        };
        manifest.Write(root);
        progress?.Report(new BuildProgress(BuildStage.Done, 1, 1, "done"));
        return new BuildResult(root, manifest, UpToDate: false, clock.Elapsed, DatasetFolder.Bytes(root));
    }

    private static void WriteSplit(string root, ScaleDatasetOptions options, LogMel? mel, FashionSplit split, IReadOnlyList<(Imaging.GrayImage Image, int Label)> photos,
        string stream, StreamWriter? corpus, IDictionary<string, StreamInfo> streams, IDictionary<string, long> counts,
        IProgress<BuildProgress>? progress, CancellationToken cancellationToken)
    {
        string name = split.ToString().ToLowerInvariant();
        string prefix = split == FashionSplit.Train ? "fs-train-" : "fs-test-";
        using var writer = new ShardWriter(root, stream, SampleSchema.Product, options.Catalog.SamplesPerShard);
        var built = photos.Select((photo, index) => (photo, index))
            .AsParallel().AsOrdered().WithDegreeOfParallelism(options.Catalog.Workers).WithCancellation(cancellationToken)
            .Select(item => ScaleProducts.Build(
                ProductAttributes.Derive(prefix + item.index.ToString("D5", CultureInfo.InvariantCulture), split, item.index, item.photo.Image, item.photo.Label),
                options, mel));
        long done = 0;
        foreach (var b in built)
        {
            writer.Add(b.Sample);
            foreach (string m in b.Present) counts[$"{name}_{m}"] = counts.TryGetValue($"{name}_{m}", out long c) ? c + 1 : 1;
            if (b.AudioTruncated) counts[$"{name}_audio_truncated"] = counts.TryGetValue($"{name}_audio_truncated", out long t) ? t + 1 : 1;
            if (corpus is not null) foreach (string line in b.CorpusLines) corpus.WriteLine(line);
            progress?.Report(new BuildProgress(split == FashionSplit.Train ? BuildStage.Train : BuildStage.Eval, ++done, photos.Count, $"{name} products"));
        }
        streams[stream] = writer.Finish();
        counts[$"{name}_products"] = photos.Count;
    }

    private static string Fingerprint(ScaleDatasetOptions o)
    {
        var c = o.Catalog;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"scale-builder-v{BuilderVersion}|seed={c.Seed}|train={c.TrainLimit}|eval={c.EvalLimit}|vocab={c.VocabSize}|shard={c.SamplesPerShard}|q={c.JpegQuality}");
        text.Append(CultureInfo.InvariantCulture, $"|m={string.Join(',', o.Modalities)}|miss={string.Join(',', o.MissingRates.OrderBy(r => r.Key).Select(r => $"{r.Key}:{r.Value:R}"))}");
        text.Append(CultureInfo.InvariantCulture, $"|audio={o.AudioLimit}|frames={o.VideoFrames}|mel={o.Mel}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
