using System.CommandLine;
using CommerceMM.Cli.DataSets;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm data download CATALOG --out DIR` (<see cref="CatalogDownload"/>).</summary>
internal static class DataDownloadCommand
{
    public static Command Create()
    {
        var catalog = new Argument<string>("catalog") { Description = "a catalog (JSON Lines, as `cmm data build catalog` reads) whose images are http(s) URLs" };
        var output = new Option<string>("--out") { Description = $"the folder for {CatalogDownload.ImagesFolder}/ and {CatalogDownload.CatalogFile}, the catalog to build from", Required = true };
        var parallel = new Option<int>("--parallel") { Description = "downloads at once", DefaultValueFactory = _ => 8 };
        var command = new StoppableCommand("download",
            $"Download the images a catalog names by URL into OUT/{CatalogDownload.ImagesFolder}/ and write OUT/{CatalogDownload.CatalogFile}, the catalog with those URLs " +
            "replaced by the files, for `cmm data build catalog`. Timeouts, 5xx and 429 are tried again; what still fails, or is no JPEG, PNG or WebP, " +
            $"is listed in OUT/{CatalogDownload.FailedFile}. Running it again fetches only what is missing: after a stop, a failure, or new products.")
            { catalog, output, parallel };
        command.SetAction(async (r, ct) =>
        {
            CommonOptions.RequireAtLeast(1, ("--parallel", r.GetValue(parallel)));
            string from = r.GetValue(catalog)!, to = r.GetValue(output)!;
            if (Path.GetFullPath(Path.Combine(to, CatalogDownload.CatalogFile)) == Path.GetFullPath(from))
                throw new ArgumentException($"--out '{to}' would overwrite the catalog '{from}' with its rewritten copy: give another folder");
            OutputFolder.EnsureWritable(to, "--out");
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // each attempt has its own timeout
            http.DefaultRequestHeaders.UserAgent.ParseAdd("cmm-data-download/1.0");
            var result = await CatalogDownload.RunAsync(from, to, http, r.GetValue(parallel), new ConsoleProgress(" images"), ct).ConfigureAwait(false);
            Console.WriteLine($"{result.Urls:N0} image URLs in {result.Lines:N0} lines: {result.Fetched:N0} downloaded ({Sizes.Format(result.Bytes)}, {result.Elapsed.TotalSeconds:F1}s), " +
                              $"{result.Present:N0} already here, {result.Failed:N0} failed");
            string built = Path.Combine(to, CatalogDownload.CatalogFile);
            if (result.Failed > 0)
                Console.WriteLine($"{result.Failed:N0} could not be downloaded, each with its reason in {Path.Combine(to, CatalogDownload.FailedFile)}: run this again to retry them; " +
                                  "the build leaves out the products (or photos and listings) whose image is missing");
            Console.WriteLine($"next: cmm data build catalog {built} --out DIR");
            return result.Urls > 0 && result.Failed == result.Urls ? 1 : 0;
        });
        return command;
    }
}
