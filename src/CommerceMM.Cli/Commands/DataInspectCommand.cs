using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;
using CommerceMM.Data.Format;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm data inspect DIR`: what a data set holds, whether every file is intact, and a few samples decoded.</summary>
internal static class DataInspectCommand
{
    public static Command Create()
    {
        var source = PathArguments.RejectingOptions(new Argument<string>("dir")
        {
            Description = "the data set folder (holding dataset.json), or azure:CONTAINER/PATH for one in Azure Blob Storage (credentials from CMM_AZURE_CONNECTION_STRING or the other CMM_AZURE_* variables)",
            DefaultValueFactory = _ => "data/fashion",
        });
        var examples = new Option<int>("--examples") { Description = "samples decoded per stream", DefaultValueFactory = _ => 2 };
        var noVerify = new Option<bool>("--no-verify") { Description = "skip the checksums (reads only the shards the examples come from)" };
        var command = new Command("inspect", "Counts per stream and split, shards and sizes; every shard, index and the tokenizer checked against dataset.json " +
                                             "(size, SHA-256, sample count); a few samples decoded (modalities, image size, text with its token count, labels). " +
                                             "Exits 1 naming every corrupt file.") { source, examples, noVerify };
        command.SetAction(async (r, ct) =>
        {
            int perStream = r.GetValue(examples);
            if (perStream < 0) throw new ArgumentException($"--examples must be 0 or more, got {perStream}");
            using var files = DataSetFiles.Open(r.GetValue(source)!);
            var report = await DataInspection.RunAsync(files, perStream, !r.GetValue(noVerify), new ConsoleProgress(" KiB", toStandardError: true), ct).ConfigureAwait(false);
            Print(files, report, !r.GetValue(noVerify));
            if (report.Problems.Count == 0) return 0;
            Console.Error.WriteLine($"cmm: data set problem: {report.Problems.Count} corrupt or missing file{(report.Problems.Count == 1 ? "" : "s")} in {files.Where}:");
            foreach (string p in report.Problems) Console.Error.WriteLine($"  {p}");
            // A remote data set's cache folder was never whole: it fills as training reads it.
            Console.Error.WriteLine(Data.Format.RemoteFolders.SourceOf(files.Root) is { } remote
                ? $"  the folder is the cache of {remote}, which fills as it is read: inspect {remote} itself, or fetch the rest with `cmm data pull {remote} --out {files.Root}`"
                : "  rebuild it: cmm data build fashion --out DIR --overwrite (with the options it was built with)");
            return 1;
        });
        return command;
    }

    private static void Print(DataSetFiles files, DataReport report, bool verified)
    {
        var m = report.Manifest;
        Console.WriteLine($"data set '{m.Name}' in {files.Where}: {m.Format} v{m.Version}, modalities {string.Join(", ", m.Modalities)}");
        Console.WriteLine($"images {m.Image.Width}x{m.Image.Height}x{m.Image.Channels}; tokenizer {m.Tokenizer.File} ({m.Tokenizer.Type}, {m.Tokenizer.VocabSize:N0} pieces)");
        Console.WriteLine();
        Console.WriteLine($"  {"stream",-14} {"split",-5} {"schema",-7} {"samples",10} {"shards",6} {"size",11}");
        foreach (var (name, s) in m.Streams)
            Console.WriteLine($"  {name,-14} {DataInspection.Split(name),-5} {s.Schema.ToString().ToLowerInvariant(),-7} {s.Samples,10:N0} {s.Shards.Count,6} {Sizes.Format(s.Shards.Sum(x => x.Bytes)),11}");
        Console.WriteLine($"  counts: {string.Join(", ", m.Counts.Select(c => $"{c.Key} {c.Value:N0}"))}");
        Console.WriteLine();
        Console.WriteLine(!verified ? "checksums: not checked (--no-verify)"
            : report.Problems.Count == 0 ? $"checksums: all {report.FilesChecked} files match dataset.json (tokenizer, every shard and index: size and SHA-256)"
            : $"checksums: {report.Problems.Count} problem{(report.Problems.Count == 1 ? "" : "s")}: {string.Join("; ", report.Problems)}");
        foreach (var group in report.Examples.GroupBy(e => e.Stream))
        {
            Console.WriteLine();
            Console.WriteLine($"examples from {group.Key}:");
            foreach (var (_, lines) in group)
            {
                Console.WriteLine($"  {lines[0]}");
                foreach (string line in lines.Skip(1)) Console.WriteLine($"    {line}");
            }
        }
    }
}
