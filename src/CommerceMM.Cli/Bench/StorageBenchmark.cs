using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Commands;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;
using CommerceMM.Storage.Benchmarks;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench storage`: upload and download MB/s of the job's latest model file (or random bytes) against the job's own checkpoint store
/// (the file store, or Azure from the CMM_AZURE_* settings), through the same IBlobStore the workers use
/// (StorageThroughput with TransferTarget.For), reading as a restore does: against the payload's SHA-256. The
/// SDK-against-the-old-client comparison is tools/bench/storage/run.
/// </summary>
internal static class StorageBenchmark
{
    /// <summary>The payload when the job has no checkpoint to take it from: tools/bench/storage/run's default.</summary>
    private const int DefaultMegabytes = 128;

    public static Command CreateCommand()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var size = new Option<double?>("--size-mb") { Description = $"payload in MiB of random bytes (default: the job's latest model.safetensors itself, or {DefaultMegabytes} MiB of random bytes without one)" };
        var rounds = new Option<int>("--rounds") { Description = "rounds; each figure is the median over rounds", DefaultValueFactory = _ => 5 };
        var command = new Command("storage", "Upload and download MB/s of the job's latest model file (or random bytes) to the job's checkpoint store (checkpoint.store: file:DIR or azure:), " +
                                             "through the store the workers use; every download is compared with the upload byte for byte. " +
                                             "tools/bench/storage/run compares the Azure SDK with the old client on one Azurite.") { spec, set, size, rounds };
        command.SetAction(async (r, ct) =>
        {
            if (r.GetValue(rounds) < 1) throw new ArgumentException($"--rounds must be at least 1, got {r.GetValue(rounds)}");
            if (r.GetValue(size) is { } mb && !(mb > 0 && mb <= 2047)) throw new ArgumentException($"--size-mb must be in (0, 2047], got {mb.ToString(CultureInfo.InvariantCulture)}");
            var job = await JobStore.OpenAsync(r.GetValue(spec), r.GetValue(set)!, ct).ConfigureAwait(false);
            var (payload, why) = r.GetValue(size) is { } megabytes
                ? (StorageThroughput.Payload((int)(megabytes * (1 << 20))), "--size-mb")
                : await CheckpointPayloadAsync(job, ct).ConfigureAwait(false);
            string name = job.Spec.Checkpoint.Store.Split(':')[0];
            Console.WriteLine($"cmm bench storage: {job.Where}; payload {Sizes.Format(payload.Length)} ({why}); {r.GetValue(rounds)} rounds; load average {LoadAverage()} on {Environment.ProcessorCount} cores");
            // Keys of their own, deleted after each round, outside any job's checkpoints/ folder: restore never sees them.
            string prefix = $"bench-storage/{Guid.NewGuid():N}";
            // Downloads are checked against the payload's SHA-256 as they stream, as a restore reads a checkpoint's files.
            string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload));
            var results = await StorageThroughput.MeasureAsync([TransferTarget.For(name, job.Store, sha256)], payload, r.GetValue(rounds), prefix,
                line => Console.Error.WriteLine(line), ct).ConfigureAwait(false);
            Console.WriteLine($"{"store",-8} {"payload",10} {"upload MB/s",12} {"download MB/s",13}   (medians; MB = 10^6 bytes; downloads checked against the SHA-256, as a restore reads)");
            foreach (var result in results)
                Console.WriteLine($"{result.Name,-8} {Sizes.Format(result.Bytes),10} {result.MedianUploadMBps,12:F1} {result.MedianDownloadMBps,13:F1}");
            return 0;
        });
        return command;
    }

    /// <summary>The job's latest committed model file itself (what a save uploads and a restore downloads most of), or random bytes without one.</summary>
    private static async Task<(byte[] Payload, string Why)> CheckpointPayloadAsync(JobStore job, CancellationToken ct)
    {
        var latest = await CheckpointCommitter.ReadLatestAsync(job.Store, job.Job, ct).ConfigureAwait(false);
        if (latest is { } l && await CheckpointCatalog.ReadManifestAsync(job.Store, job.Job, l.Pointer.Step, ct).ConfigureAwait(false) is { } manifest
            && manifest.Files.FirstOrDefault(f => f.Path == CheckpointFiles.Model) is { Size: > 0 and < int.MaxValue })
            return (await CheckpointCatalog.ReadFileAsync(job.Store, manifest, CheckpointFiles.Model, ct).ConfigureAwait(false),
                    $"job '{job.Job}' step {manifest.Step}'s {CheckpointFiles.Model}");
        return (StorageThroughput.Payload(DefaultMegabytes << 20), $"job '{job.Job}' has no committed checkpoint to take it from");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
