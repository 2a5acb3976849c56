using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Data.Fashion;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm data build fashion`: the commerce corpus from real Fashion-MNIST product photos.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var data = new Command("data", "Build and inspect training data sets.");
        var build = new Command("build", "Build a data set.");
        data.Subcommands.Add(build);

        var output = new Option<string>("--out") { Description = "output folder (holds dataset.json and the shards)", Required = true };
        var limit = new Option<int?>("--limit") { Description = "train products to use (default: all 60,000)" };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "held-out products to use (default: all 10,000)" };
        var vocab = new Option<int>("--vocab") { Description = "SentencePiece vocabulary size (a soft limit)", DefaultValueFactory = _ => FashionDatasetOptions.DefaultVocabSize };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a different data set already in --out" };
        var fashion = new Command("fashion", "Products, multilingual listings, queries and photos from Fashion-MNIST (Debian dataset-fashion-mnist).")
            { output, limit, evalLimit, vocab, overwrite };
        fashion.SetAction(async (r, ct) =>
        {
            var options = new FashionDatasetOptions
            {
                OutputDirectory = r.GetValue(output)!, TrainLimit = r.GetValue(limit), EvalLimit = r.GetValue(evalLimit),
                VocabSize = r.GetValue(vocab), Overwrite = r.GetValue(overwrite),
            };
            await BuildFashionAsync(options, ct).ConfigureAwait(false);
            return 0;
        });
        build.Subcommands.Add(fashion);
        return data;
    }

    public static async Task BuildFashionAsync(FashionDatasetOptions options, CancellationToken cancellationToken)
    {
        var bar = new ConsoleProgress();
        var result = await FashionDatasetBuilder.BuildAsync(options,
            new Progress<BuildProgress>(p => bar.Report((p.Stage.ToString(), p.Completed, p.Total))), cancellationToken).ConfigureAwait(false);
        Console.WriteLine(result.UpToDate
            ? $"{result.Directory}: already up to date"
            : $"{result.Directory}: {string.Join(", ", result.Manifest.Counts.Select(c => $"{c.Value:N0} {c.Key}"))}; {result.Bytes / 1048576.0:F0} MiB in {result.Elapsed.TotalSeconds:F1}s");
    }
}
