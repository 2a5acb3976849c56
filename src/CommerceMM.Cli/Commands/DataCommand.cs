using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm data build fashion`: the commerce corpus from real Fashion-MNIST product photos; `cmm data build catalog` (DataBuildCatalogCommand) and `cmm data inspect` (DataInspectCommand).</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var data = new Command("data", "Build, inspect and share training data sets.");
        var build = new Command("build", "Build a data set.");
        data.Subcommands.Add(build);

        var output = new Option<string>("--out") { Description = "output folder (holds dataset.json and the shards)", Required = true };
        var limit = new Option<int?>("--limit") { Description = "train products to use (default: all 60,000)" };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "held-out products to use (default: all 10,000)" };
        var vocab = new Option<int>("--vocab") { Description = "SentencePiece vocabulary size (a soft limit)", DefaultValueFactory = _ => FashionDatasetOptions.DefaultVocabSize };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a different data set already in --out" };
        var modalities = new Option<string>("--modalities")
        {
            Description = "image,text builds the CommerceMM corpus; any of table, video, audio added builds the SCALE corpus (e.g. image,text,table,video,audio)",
            DefaultValueFactory = _ => "image,text",
        };
        var audioLimit = new Option<int>("--audio-limit")
        {
            Description = "SCALE: products per split that get audio (espeak-ng is the slow step)", DefaultValueFactory = _ => new ScaleDatasetOptions().AudioLimit,
        };
        var fashion = new StoppableCommand("fashion", "Products, multilingual listings, queries and photos from Fashion-MNIST (Debian dataset-fashion-mnist).")
            { output, limit, evalLimit, vocab, overwrite, modalities, audioLimit };
        fashion.SetAction(async (r, ct) =>
        {
            CommonOptions.RequireAtLeast(1, ("--limit", r.GetValue(limit)), ("--eval-limit", r.GetValue(evalLimit)));
            CommonOptions.RequireAtLeast(0, ("--audio-limit", r.GetValue(audioLimit)));
            if (r.GetValue(vocab) is < 64 or > 1_000_000) throw new ArgumentException($"--vocab must be in 64..1000000, got {r.GetValue(vocab)}");
            var wanted = Names(r.GetValue(modalities)!);
            if (wanted.FirstOrDefault(m => !Modality.Known.Contains(m)) is { } unknown)
                throw new ArgumentException($"--modalities: unknown modality '{unknown}'; use any of {string.Join(",", Modality.Known)}");
            OutputFolder.EnsureWritable(r.GetValue(output)!, "--out");
            var options = new FashionDatasetOptions
            {
                OutputDirectory = r.GetValue(output)!, TrainLimit = r.GetValue(limit), EvalLimit = r.GetValue(evalLimit),
                VocabSize = r.GetValue(vocab), Overwrite = r.GetValue(overwrite),
            };
            var signals = Signals.ForProcess();
            try
            {
                if (wanted.All(m => m is Modality.Image or Modality.Text) && wanted.Contains(Modality.Image) && wanted.Contains(Modality.Text))
                    await BuildFashionAsync(options, signals.Graceful).ConfigureAwait(false);
                else
                    await BuildScaleAsync(new ScaleDatasetOptions { Catalog = options, Modalities = wanted, AudioLimit = r.GetValue(audioLimit) }, signals.Graceful).ConfigureAwait(false);
                return 0;
            }
            catch (OperationCanceledException) when (signals.Graceful.IsCancellationRequested)
            {
                Console.Error.WriteLine(Interrupted(options.OutputDirectory));
                return InterruptedExitCode;
            }
        });
        build.Subcommands.Add(fashion);
        build.Subcommands.Add(DataBuildCatalogCommand.Create());
        data.Subcommands.Add(DataInspectCommand.Create());
        data.Subcommands.Add(DataDownloadCommand.Create());
        data.Subcommands.Add(DataTransferCommands.Push());
        data.Subcommands.Add(DataTransferCommands.Pull());
        return data;
    }

    /// <summary>128 + SIGINT, what a shell reports for a command stopped by Ctrl+C.</summary>
    internal const int InterruptedExitCode = 130;

    /// <summary>What an interrupted build left: dataset.json is written last, so its absence marks the folder unfinished.</summary>
    internal static string Interrupted(string output) =>
        File.Exists(Path.Combine(output, DatasetManifest.FileName))
            ? $"cmm: data build interrupted; '{output}' still holds its finished data set"
            : $"cmm: data build interrupted; '{output}' holds an unfinished data set (no {DatasetManifest.FileName}), which nothing will train on: run the same command again, and it clears the leftovers and starts over";

    private static List<string> Names(string modalities) =>
        modalities.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => m.ToLowerInvariant()).ToList();

    /// <summary>A bar per stage; waiting for another build of the folder is said in words.</summary>
    internal static IProgress<BuildProgress> BuildBar()
    {
        var bar = new ConsoleProgress();
        return new SynchronousProgress<BuildProgress>(p =>
        {
            if (p.Stage == BuildStage.Waiting) Console.WriteLine(p.Message);
            else bar.Report((p.Stage.ToString(), p.Completed, p.Total));
        });
    }

    /// <summary>The five-modality SCALE corpus (MODEL.md §8): streams products and eval_products.</summary>
    public static async Task BuildScaleAsync(ScaleDatasetOptions options, CancellationToken cancellationToken)
    {
        var result = await ScaleDatasetBuilder.BuildAsync(options, BuildBar(), cancellationToken).ConfigureAwait(false);
        Console.WriteLine(result.UpToDate
            ? $"{result.Directory}: already up to date"
            : $"{result.Directory}: {string.Join(", ", result.Manifest.Counts.Select(c => $"{c.Value:N0} {c.Key}"))}; {result.Bytes / 1048576.0:F1} MiB in {result.Elapsed.TotalSeconds:F1}s");
    }

    public static async Task BuildFashionAsync(FashionDatasetOptions options, CancellationToken cancellationToken)
    {
        var result = await FashionDatasetBuilder.BuildAsync(options, BuildBar(), cancellationToken).ConfigureAwait(false);
        Console.WriteLine(result.UpToDate
            ? $"{result.Directory}: already up to date"
            : $"{result.Directory}: {string.Join(", ", result.Manifest.Counts.Select(c => $"{c.Value:N0} {c.Key}"))}; {result.Bytes / 1048576.0:F0} MiB in {result.Elapsed.TotalSeconds:F1}s");
    }
}
