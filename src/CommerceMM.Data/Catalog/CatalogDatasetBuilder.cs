using System.Diagnostics;
using System.Text;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Text;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// Builds a CommerceMM data set from a user's own catalog (<see cref="CatalogReader"/>): the four streams (pairs, omni,
/// eval_pairs, eval_omni) as tar shards, a SentencePiece tokenizer trained on the catalog's text, and dataset.json
/// written last, the same format the Fashion-MNIST corpus has. Re-running on an unchanged catalog is a no-op.
/// </summary>
public static class CatalogDatasetBuilder
{
    /// <summary>Lists what the build left out, one row per product or source, when anything was.</summary>
    public const string SkippedFile = "skipped.tsv";

    /// <summary>Where a build keeps the squares it made, for the next build of the folder (<see cref="SquareImageCache"/>).</summary>
    public const string ImageCacheFolder = ".image-cache";

    /// <summary>Bump when the output for the same inputs changes, so old folders are rebuilt, not reused.</summary>
    private const int BuilderVersion = 1;

    private const string CorpusFile = "tokenizer-corpus.txt";

    private static readonly string[] OwnedPaths =
        [StreamNames.Pairs, StreamNames.Omni, StreamNames.EvalPairs, StreamNames.EvalOmni, DatasetFolder.TokenizerFile, "tokenizer.vocab", CorpusFile, SkippedFile];

    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="FileNotFoundException">The catalog file does not exist.</exception>
    /// <exception cref="TokenizerException">spm_train is missing or failed.</exception>
    /// <exception cref="DatasetException">
    /// Too much of the catalog cannot be used (the message lists the first reasons; <see cref="SkippedFile"/> all), no product
    /// gives pass 2 a pair, or the folder holds a data set built from other inputs and overwriting is off.
    /// </exception>
    public static async Task<CatalogBuildResult> BuildAsync(CatalogDatasetOptions options, IProgress<BuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        string root = Path.GetFullPath(options.OutputDirectory);
        SentencePieceTrainer.EnsureAvailable();

        string catalogPath = CatalogReader.Locate(options.CatalogFile);
        (TokenizerSpec Spec, byte[] Bytes)? kept = options.TokenizerFrom is { } from ? DatasetFolder.ReadTokenizer(Path.GetFullPath(from)) : null;
        using var survey = new CatalogSurvey(catalogPath, options, BuilderVersion, kept?.Spec.Sha256);
        static long MiB(long bytes) => Math.Max(1, (bytes + (1 << 20) - 1) >> 20);
        var catalog = CatalogReader.Read(catalogPath, survey.Add, cancellationToken: cancellationToken, onRead: (read, total) =>
            progress?.Report(new BuildProgress(BuildStage.Reading, MiB(read), MiB(total), "MiB of the catalog read")));
        var split = survey.Split;
        split.Finish();
        if (catalog.Lines == 0) throw new DatasetException($"catalog '{options.CatalogFile}' holds no product (one JSON object per line)");

        using var building = await BuildLock.TakeAsync(root, progress, cancellationToken).ConfigureAwait(false);
        string fingerprint = survey.Fingerprint();
        if (DatasetFolder.Prepare(root, fingerprint, options.Overwrite, OwnedPaths) is { } existing)
        {
            progress?.Report(new BuildProgress(BuildStage.Done, 1, 1, "already built"));
            return new CatalogBuildResult(new BuildResult(root, existing, UpToDate: true, clock.Elapsed, DatasetFolder.Bytes(root)), catalog.IgnoredFields, 0);
        }

        var categories = survey.Categories();
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal) { ["categories"] = categories.Count };
        var streams = new SortedDictionary<string, StreamInfo>(StringComparer.Ordinal);
        var problems = new List<CatalogProblem>(catalog.Problems);
        string corpusPath = Path.Combine(root, CorpusFile);
        var cache = new SquareImageCache(Path.Combine(root, ImageCacheFolder), options, BuilderVersion);
        var train = (Stage: BuildStage.Train, Products: catalog.ReadProducts().Where(p => !split.IsEval(p)), Count: split.Train);
        var eval = (Stage: BuildStage.Eval, Products: catalog.ReadProducts().Where(split.IsEval), Count: split.Eval);
        (double Sum, double Squares, long Count) pixels;
        using (var corpus = kept is null ? new StreamWriter(corpusPath, append: false, new UTF8Encoding(false)) : null)
            pixels = WriteSplit(root, options, cache, train, categories, StreamNames.Pairs, StreamNames.Omni, corpus, streams, counts, problems, progress, cancellationToken);
        WriteSplit(root, options, cache, eval, categories, StreamNames.EvalPairs, StreamNames.EvalOmni, null, streams, counts, problems, progress, cancellationToken);

        problems = problems.OrderBy(p => p.Line).ToList();   // stable: a product's sources stay in their order
        int lost = problems.Count(p => p.LostProduct);
        counts["skipped_products"] = lost;
        counts["skipped_sources"] = problems.Count - lost;
        if (problems.Count > 0) WriteSkipped(Path.Combine(root, SkippedFile), problems);
        CheckUsable(options, catalog, problems, lost, counts, root);

        TokenizerSpec tokenizer;
        if (kept is { } keep)
        {
            await File.WriteAllBytesAsync(Path.Combine(root, DatasetFolder.TokenizerFile), keep.Bytes, cancellationToken).ConfigureAwait(false);
            tokenizer = keep.Spec;
            progress?.Report(new BuildProgress(BuildStage.Tokenizer, 1, 1, $"kept the tokenizer of {options.TokenizerFrom} ({tokenizer.VocabSize} pieces)"));
        }
        else
        {
            progress?.Report(new BuildProgress(BuildStage.Tokenizer, 0, 1, "training the SentencePiece tokenizer"));
            tokenizer = await DatasetFolder.TrainTokenizerAsync(root, corpusPath, options.VocabSize, options.Seed, cancellationToken).ConfigureAwait(false);
            progress?.Report(new BuildProgress(BuildStage.Tokenizer, 1, 1, $"vocabulary of {tokenizer.VocabSize} pieces"));
        }

        progress?.Report(new BuildProgress(BuildStage.Manifest, 0, 1, "writing dataset.json"));
        double mean = pixels.Sum / pixels.Count, std = Math.Sqrt(Math.Max(0, pixels.Squares / pixels.Count - mean * mean));
        var manifest = new DatasetManifest
        {
            Name = Path.GetFileNameWithoutExtension(catalog.Path),
            Fingerprint = fingerprint,
            Modalities = [Modality.Image, Modality.Text],
            // One mean and deviation over every channel of the training images, as the loader normalises.
            Image = new ImageSpec(options.ImageSize, options.ImageSize, options.Channels, (float)mean, std > 1e-6 ? (float)std : 1f),
            Tokenizer = tokenizer,
            Counts = counts,
            Streams = streams,
        };
        manifest.Write(root);
        cache.Commit(root);
        progress?.Report(new BuildProgress(BuildStage.Done, 1, 1, "done"));
        return new CatalogBuildResult(new BuildResult(root, manifest, UpToDate: false, clock.Elapsed, DatasetFolder.Bytes(root)), catalog.IgnoredFields, cache.Hits);
    }

    private static (double, double, long) WriteSplit(
        string root, CatalogDatasetOptions options, SquareImageCache cache, (BuildStage Stage, IEnumerable<CatalogProduct> Products, int Count) part,
        IReadOnlyDictionary<string, int> categories,
        string pairStream, string omniStream, StreamWriter? corpus, IDictionary<string, StreamInfo> streams, IDictionary<string, long> counts,
        List<CatalogProblem> problems, IProgress<BuildProgress>? progress, CancellationToken cancellationToken)
    {
        var (stage, products, count) = part;
        string split = stage == BuildStage.Train ? "train" : "eval";
        using var pairs = new ShardWriter(root, pairStream, SampleSchema.Pair, options.SamplesPerShard);
        using var omni = new ShardWriter(root, omniStream, SampleSchema.Omni, options.SamplesPerShard);
        long done = 0, used = 0, queries = 0, photos = 0, listings = 0;
        (double Sum, double Squares, long Count) pixels = default;
        int reportEvery = Math.Max(1, count / 100);
        // Products are made in parallel but written in catalog order, so the shards do not depend on Workers.
        var built = products.AsParallel().AsOrdered().WithDegreeOfParallelism(options.Workers).WithCancellation(cancellationToken)
            .Select(p => CatalogSamples.Build(p, p.Category is { } c ? categories[c] : null, options, cache));
        foreach (var b in built)
        {
            problems.AddRange(b.Problems);
            if (b.Pair is not null)
            {
                foreach (var stored in pairs.Add(b.Pair)) cache.Stored(stored);
                foreach (var o in b.Omni)
                    foreach (var stored in omni.Add(o)) cache.Stored(stored);
                if (corpus is not null) foreach (string line in b.CorpusLines) corpus.WriteLine(line);
                pixels = (pixels.Sum + b.PixelSum.Sum, pixels.Squares + b.PixelSum.Squares, pixels.Count + b.PixelSum.Count);
                used++;
                (queries, photos, listings) = (queries + b.Queries, photos + b.Photos, listings + b.Listings);
            }
            if (++done % reportEvery == 0 || done == count)
                progress?.Report(new BuildProgress(stage, done, count, $"{split} products"));
        }
        streams[pairStream] = pairs.Finish();
        streams[omniStream] = omni.Finish();
        counts[$"{split}_products"] = used;
        counts[$"{split}_queries"] = queries;
        counts[$"{split}_photos"] = photos;
        counts[$"{split}_listings"] = listings;
        return pixels;
    }

    /// <summary>Refuses a build that lost too much of the catalog, or that leaves a pass without data, before the tokenizer and manifest.</summary>
    private static void CheckUsable(CatalogDatasetOptions options, CatalogFile catalog, List<CatalogProblem> problems, int lost,
                                    IReadOnlyDictionary<string, long> counts, string root)
    {
        string unfinished = $"'{root}' is left without {DatasetManifest.FileName}, so nothing trains on it";
        if (lost > options.MaxSkippedShare * catalog.Lines)
        {
            var first = string.Join(Environment.NewLine, problems.Where(p => p.LostProduct).Take(5).Select(p => "  " + p));
            throw new DatasetException(
                $"{lost:N0} of the catalog's {catalog.Lines:N0} products cannot be used ({100.0 * lost / catalog.Lines:F1} %, more than --max-skipped {options.MaxSkippedShare:0.###}); the first:{Environment.NewLine}{first}{Environment.NewLine}" +
                $"every one is in {Path.Combine(root, SkippedFile)}. Image paths are relative to the catalog's folder ({Path.GetDirectoryName(catalog.Path)}). " +
                $"Fix them, or accept the loss with a larger --max-skipped; {unfinished}");
        }
        if (counts["train_products"] == 0)
            throw new DatasetException($"no product is left for training (all {catalog.Lines:N0} are held out or unusable); {unfinished}");
        if (counts["train_queries"] + counts["train_photos"] + counts["train_listings"] == 0)
            throw new DatasetException(
                "no training product has \"queries\", \"photos\" or \"listings\", so pass 2 (the 9 Omni-Retrieval tasks, MODEL.md §4) would have no data: " +
                $"add search queries that led to a product, users' photos of it, or other listings of it to the catalog; {unfinished}");
    }

    private static void WriteSkipped(string path, IEnumerable<CatalogProblem> problems)
    {
        using var file = new StreamWriter(path, append: false, new UTF8Encoding(false));
        file.WriteLine("line\tid\tskipped\treason");
        foreach (var p in problems) file.WriteLine($"{p.Line}\t{p.Id}\t{p.What}\t{p.Reason.Replace('\t', ' ')}");
    }
}

/// <summary>The build, and the catalog's fields it did not read (name to the number of products having it), for the user to check for typos.</summary>
/// <param name="CachedImages">images an earlier build of the folder had already made (a build stopped part-way, or the catalog grew)</param>
public sealed record CatalogBuildResult(BuildResult Build, IReadOnlyDictionary<string, int> IgnoredFields, int CachedImages);
