using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Data.Catalog;
using CommerceMM.Model.Config;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm data build catalog FILE --out DIR`: a CommerceMM data set from the user's own products.</summary>
internal static class DataBuildCatalogCommand
{
    private const string Description = """
        A CommerceMM data set from your own catalog: a JSON Lines file, one product per line, e.g.
          {"id": "sku-1", "title": "Linen shirt", "description": "Relaxed fit…", "image": "images/sku-1.jpg", "category": "shirts",
           "queries": ["white linen shirt"], "photos": ["ugc/sku-1-a.webp"], "listings": [{"text": "Men's linen shirt", "image": "m/1.png"}]}
        id, title and image are required. Pass 2 needs, on enough products, at least one of: queries (searches that led to the product), photos
        (users' photos of it), listings (other listings or posts of it, text and image). "split": "eval" holds a product out for `cmm eval`
        (otherwise --eval-share of them are, by their id). Images are JPEG, PNG or WebP, paths relative to the catalog's folder (image URLs: run `cmm data download` first); each is
        resized and centre-cropped to --image-size. Products that cannot be used are listed in OUT/skipped.tsv; more than --max-skipped fail the build.
        """;

    public static Command Create()
    {
        var catalog = new Argument<string>("catalog") { Description = "the catalog file (JSON Lines)" };
        var output = new Option<string>("--out") { Description = "output folder (holds dataset.json and the shards)", Required = true };
        var size = new Option<int>("--image-size")
        {
            Description = "side of the square images, in pixels: base is sized for 224 (its patch, 16, must divide it), tiny and small for 28 (patches 7 and 4): many more patches make steps far slower",
            DefaultValueFactory = _ => CatalogDatasetOptions.DefaultImageSize,
        };
        var grey = new Option<bool>("--grey") { Description = "store grey images (1 channel) instead of colour" };
        var evalShare = new Option<double>("--eval-share")
        {
            Description = "share of the products without a \"split\" held out for cmm eval, chosen by their id", DefaultValueFactory = _ => CatalogDatasetOptions.DefaultEvalShare,
        };
        var maxSkipped = new Option<double>("--max-skipped")
        {
            Description = "fail when more than this share of the products cannot be used (missing or unreadable image, bad line)",
            DefaultValueFactory = _ => CatalogDatasetOptions.DefaultMaxSkippedShare,
        };
        var vocab = new Option<int>("--vocab") { Description = "SentencePiece vocabulary size (a soft limit)", DefaultValueFactory = _ => CatalogDatasetOptions.DefaultVocabSize };
        var tokenizerFrom = new Option<string?>("--tokenizer-from")
        {
            Description = "keep a tokenizer instead of training one: a finished data set's (it may be --out itself), or the file `cmm checkpoints export` writes; " +
                          "a job trained with it can then go on on this data set (job.init_from)",
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a different data set already in --out" };

        var command = new StoppableCommand("catalog", Description) { catalog, output, size, grey, evalShare, maxSkipped, vocab, tokenizerFrom, overwrite };
        command.SetAction(async (r, ct) =>
        {
            var options = new CatalogDatasetOptions
            {
                CatalogFile = r.GetValue(catalog)!, OutputDirectory = r.GetValue(output)!, ImageSize = r.GetValue(size), Channels = r.GetValue(grey) ? 1 : 3,
                EvalShare = r.GetValue(evalShare), MaxSkippedShare = r.GetValue(maxSkipped), VocabSize = r.GetValue(vocab), TokenizerFrom = r.GetValue(tokenizerFrom), Overwrite = r.GetValue(overwrite),
            };
            options.Validate();
            OutputFolder.EnsureWritable(options.OutputDirectory, "--out");
            var signals = Signals.ForProcess();
            try
            {
                var (result, ignored, cached) = await CatalogDatasetBuilder.BuildAsync(options, DataCommand.BuildBar(), signals.Graceful).ConfigureAwait(false);
                var counts = result.Manifest.Counts;
                if (result.UpToDate)
                {
                    Console.WriteLine($"{result.Directory}: already up to date");
                    return 0;
                }
                Console.WriteLine($"{result.Directory}: {counts["train_products"]:N0} training and {counts["eval_products"]:N0} held-out products " +
                                  $"({counts["categories"]:N0} categories); pass 2: {counts["train_queries"]:N0} queries, {counts["train_photos"]:N0} photos, " +
                                  $"{counts["train_listings"]:N0} listings; {result.Bytes / 1048576.0:F1} MiB in {result.Elapsed.TotalSeconds:F1}s");
                if (counts["eval_products"] == 0)
                    Console.WriteLine("held out: no product, so `cmm eval` has nothing to evaluate on; mark some \"split\": \"eval\", or give --eval-share");
                if (cached > 0)
                    Console.WriteLine($"{cached:N0} images came from {Path.Combine(result.Directory, CatalogDatasetBuilder.ImageCacheFolder)}, made by an earlier build of this folder");
                long lostProducts = counts["skipped_products"], lostSources = counts["skipped_sources"];
                if (lostProducts + lostSources > 0)
                    Console.WriteLine($"left out: {lostProducts:N0} product{(lostProducts == 1 ? "" : "s")} and {lostSources:N0} of their queries, photos or listings; " +
                                      $"each with its reason in {Path.Combine(result.Directory, CatalogDatasetBuilder.SkippedFile)}");
                if (ignored.Count > 0)
                    Console.WriteLine($"not used: the fields {string.Join(", ", ignored.Select(f => $"\"{f.Key}\" ({f.Value:N0})"))}; " +
                                      $"the build reads {string.Join(", ", CatalogReader.KnownFields)}");
                // The default job's preset (tiny) is sized for 28-pixel images; name the one sized for these.
                var sized = CommerceMMConfig.PresetsSizedFor(options.ImageSize).ToList();
                string preset = sized.Count > 0 && !sized.Contains("tiny") ? $" --set model.preset={sized[0]}" : "";
                Console.WriteLine($"train on it: cmm train --set data.dir={options.OutputDirectory}{preset}");
                return 0;
            }
            catch (OperationCanceledException) when (signals.Graceful.IsCancellationRequested)
            {
                Console.Error.WriteLine(DataCommand.Interrupted(options.OutputDirectory));
                return DataCommand.InterruptedExitCode;
            }
        });
        return command;
    }
}
