using System.CommandLine;
using CommerceMM.Cli.DataSets;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm data push DIR azure:CONTAINER/PATH` and `cmm data pull azure:CONTAINER/PATH --out DIR` (<see cref="DataSetTransfer"/>).</summary>
internal static class DataTransferCommands
{
    private const string Credentials = "credentials from CMM_AZURE_CONNECTION_STRING or the other CMM_AZURE_* variables";

    public static Command Push()
    {
        var directory = new Argument<string>("dir") { Description = "the data set folder (holding dataset.json)" };
        var destination = new Argument<string>("destination") { Description = $"azure:CONTAINER/PATH ({Credentials}); the container is created if missing" };
        var command = new StoppableCommand("push",
            "Copy a built data set to Azure Blob Storage, for workers that share no disk to `cmm data pull` (a Kubernetes init container). " +
            "Every file is checked against dataset.json first, and dataset.json goes last; pushing what is already there copies nothing.")
            { directory, destination };
        command.SetAction(async (r, ct) =>
        {
            string to = r.GetValue(destination)!;
            var (store, prefix) = Location(to, "destination");
            if (prefix.Length == 0)
                throw new ArgumentException($"destination '{to}' names no folder in the container: push to azure:CONTAINER/PATH, a folder of the data set's own (e.g. datasets/shop)");
            var result = await Naming(to, async () =>
            {
                await store.CreateContainerIfNotExistsAsync(ct).ConfigureAwait(false);
                return await DataSetTransfer.PushAsync(r.GetValue(directory)!, store, prefix, new ConsoleProgress(), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            Console.WriteLine(result.UpToDate
                ? $"{r.GetValue(destination)}: already holds this data set ({result.Files} files, {Sizes.Format(result.Bytes)}); nothing copied"
                : $"{r.GetValue(destination)}: {result.Files} files, {Sizes.Format(result.Bytes)} in {result.Elapsed.TotalSeconds:F1}s" +
                  (result.Removed > 0 ? $"; deleted {result.Removed} file(s) of the data set that was there before" : ""));
            return 0;
        });
        return command;
    }

    public static Command Pull()
    {
        var source = new Argument<string>("source") { Description = $"azure:CONTAINER/PATH of a pushed data set ({Credentials})" };
        var output = new Option<string>("--out") { Description = "the folder to copy it into (then data.dir)", Required = true };
        var command = new StoppableCommand("pull",
            "Copy a data set pushed with `cmm data push` into a local folder, checking every file's SHA-256; dataset.json goes last. " +
            "Pulling what is already there copies nothing, and a pull cut short goes on where it stopped.")
            { source, output };
        command.SetAction(async (r, ct) =>
        {
            string from = r.GetValue(source)!;
            var (store, prefix) = Location(from, "source");
            OutputFolder.EnsureWritable(r.GetValue(output)!, "--out");
            var result = await Naming(from, () => DataSetTransfer.PullAsync(store, prefix, from, r.GetValue(output)!, new ConsoleProgress(), ct)).ConfigureAwait(false);
            Console.WriteLine(result.UpToDate
                ? $"{r.GetValue(output)}: already holds this data set ({result.Files} files, {Sizes.Format(result.Bytes)}); nothing copied"
                : $"{r.GetValue(output)}: {result.Files} files, {Sizes.Format(result.Bytes)} in {result.Elapsed.TotalSeconds:F1}s" +
                  (result.Reused > 0 ? $" ({result.Reused} already here from a pull cut short)" : ""));
            return 0;
        });
        return command;
    }

    /// <summary>The store's errors (a setting at fault, a corrupt blob) as data set problems naming the place, not as a checkpoint store's.</summary>
    private static async Task<TransferResult> Naming(string location, Func<Task<TransferResult>> transfer)
    {
        try
        {
            return await transfer().ConfigureAwait(false);
        }
        catch (Storage.Blobs.BlobStoreException e)
        {
            throw new Data.Format.DatasetException($"{location}: {e.Message}");
        }
    }

    private static (Storage.Azure.AzureBlobStore Store, string Prefix) Location(string value, string name)
    {
        if (!Storage.Azure.AzureFolder.IsAzure(value))
            throw new ArgumentException($"{name} '{value}' is not azure:CONTAINER/PATH; between folders, copy with cp -r (dataset.json last)");
        return Storage.Azure.AzureFolder.Open(value);
    }
}
