using System.CommandLine;
using System.Diagnostics;
using CommerceMM.Cli.Commands;
using CommerceMM.Cli.Inspection;
using CommerceMM.Model.Config;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench checkpoint`: what a save costs training. The stall is the time the training loop waits for a save
/// (copying the weights and optimizer state into host memory, and queueing the upload); the upload itself (SHA-256,
/// write, fsync) runs in the background, and its cost shows as slower steps while it runs. Steps without saves and
/// steps with them alternate in rounds, so machine noise falls on both alike.
/// </summary>
internal static class CheckpointBenchmark
{
    private const ulong Seed = 1;
    private const string Job = "bench-checkpoint";

    public static Command CreateCommand()
    {
        var preset = CommonOptions.Preset();
        var batch = new Option<int>("--batch") { Description = "pairs per step (pass 1) and source/target pairs (pass 2)", DefaultValueFactory = _ => 32 };
        var every = new Option<int>("--every") { Description = "steps between saves", DefaultValueFactory = _ => 4 };
        var saves = new Option<int>("--saves") { Description = "saves per round", DefaultValueFactory = _ => 4 };
        var rounds = new Option<int>("--rounds") { Description = "rounds, each steps without saves then the same number with them", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var command = new Command("checkpoint", "The training stall per checkpoint save (host copy and queueing; goal: at most 2 % of a step) and the background upload's cost, " +
                                                "saving to the file store in a temporary folder as a worker does.")
        {
            preset, batch, every, saves, rounds, threads, device, precision,
        };
        command.SetAction(async (r, ct) =>
        {
            CommonOptions.RequireAtLeast(1, ("--batch", r.GetValue(batch)), ("--every", r.GetValue(every)), ("--saves", r.GetValue(saves)), ("--rounds", r.GetValue(rounds)), ("--threads", r.GetValue(threads)));
            var settings = CommonOptions.Resolve(r.GetValue(device)!, r.GetValue(precision)!);
            TorchRuntime.NumThreads = r.GetValue(threads);
            return await RunAsync(r.GetValue(preset)!, r.GetValue(batch), r.GetValue(every), r.GetValue(saves), r.GetValue(rounds), settings, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(string presetName, int batch, int every, int saves, int rounds, DeviceSettings settings, CancellationToken ct)
    {
        var config = CommerceMMConfig.Preset(presetName);
        string folder = Directory.CreateTempSubdirectory("cmm-bench-checkpoint-").FullName;
        try
        {
            using var bench = new ModelBenchmark(config, batch, Seed, settings);
            var store = new FileBlobStore(folder);
            await using var saver = new AsyncCheckpointSaver(store, Job, rank: 0, worldSize: 1);
            for (int i = 0; i < 3; i++) bench.Step();   // warm-up
            // The first capture of a process rents every host buffer new (a worker warms them when its session opens).
            long coldStarted = Stopwatch.GetTimestamp();
            var sizing = bench.Snapshot(0);
            double coldMs = Stopwatch.GetElapsedTime(coldStarted).TotalMilliseconds;
            long stateBytes = sizing.Replicated.Sum(f => (long)f.Content.Length);
            sizing.Release?.Invoke();   // its buffers (and, from a GPU, its device copies) go back before the first save
            Console.WriteLine($"cmm bench checkpoint: preset {presetName} (d={config.Dim}), batch {batch}, {settings.Device} {settings.Precision}, {TorchRuntime.NumThreads} intra-op threads; " +
                              $"a save every {every} steps, {saves} saves in each of {rounds} rounds; state {Sizes.Format(stateBytes)} to the file store in {folder}");

            var plain = new List<double>();
            var busy = new List<double>();    // steps that ran while an upload was in flight
            var stalls = new List<double>();
            var uploads = new List<Task<RankSaveResult>>();
            double plainTotal = 0, savingTotal = 0;
            long step = 0;
            for (int round = 1; round <= rounds; round++)
            {
                Console.Error.WriteLine($"round {round}/{rounds}: steps without saves, then with them ...");
                for (int i = 0; i < saves * every; i++)
                {
                    double ms = Time(bench.Step);
                    plain.Add(ms);
                    plainTotal += ms;
                }
                for (int i = 0; i < saves * every; i++)
                {
                    bool inFlight = uploads.Any(u => !u.IsCompleted);
                    double ms = Time(bench.Step);
                    if (inFlight) busy.Add(ms);
                    savingTotal += ms;
                    step++;
                    if ((i + 1) % every != 0) continue;
                    long started = Stopwatch.GetTimestamp();
                    uploads.Add(await saver.EnqueueAsync(bench.Snapshot(step), ct).ConfigureAwait(false));
                    double stall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    stalls.Add(stall);
                    savingTotal += stall;
                }
            }
            var saved = await Task.WhenAll(uploads).ConfigureAwait(false);
            var (restoreMs, rereadMs) = await MedianRestoreReadAsync(store, saved[^1], ct).ConfigureAwait(false);

            double stepMs = Measure.Median(plain), stallMs = Measure.Median(stalls), uploadMs = Measure.Median(saved.Select(s => s.Elapsed.TotalMilliseconds));
            double amortised = (savingTotal - plainTotal) / stalls.Count;
            Console.WriteLine();
            Console.WriteLine($"{"measurement (medians)",-48} {"ms",9} {"share of a step",16}");
            Console.WriteLine($"{"step without saves",-48} {stepMs,9:F1}");
            Console.WriteLine($"{"save stall: copy to host memory + queue",-48} {stallMs,9:F2} {stallMs / stepMs,16:P2}   (worst {stalls.Max():F2} ms)");
            Console.WriteLine($"{"  the copy into new buffers (a cold first save)",-48} {coldMs,9:F2} {coldMs / stepMs,16:P2}");
            if (busy.Count > 0)
                Console.WriteLine($"{"step while an upload runs in the background",-48} {Measure.Median(busy),9:F1} {Measure.Median(busy) / stepMs - 1,+16:+0.0%;-0.0%}   ({busy.Count} steps)");
            Console.WriteLine($"{"upload (background: SHA-256, write, fsync)",-48} {uploadMs,9:F1}");
            // What a save that uploads before training resumes would stall: the same copy, then the same upload, inline.
            Console.WriteLine($"{"a synchronous save's stall (copy, then upload)",-48} {stallMs + uploadMs,9:F1} {(stallMs + uploadMs) / stepMs,16:P1}   ({(stallMs + uploadMs) / stallMs:F0}x the background save's)");
            Console.WriteLine($"{"whole cost of a save (saving steps - plain ones)",-48} {amortised,9:F1} {amortised / stepMs,16:P1}   (noisy: the difference of two sums)");
            Console.WriteLine($"{"restore read: find the newest, verify, keep files",-48} {restoreMs,9:F1} {restoreMs / stepMs,15:F2}x   (each file read once)");
            Console.WriteLine($"{"  the same, verifying first and reading again",-48} {rereadMs,9:F1} {rereadMs / stepMs,15:F2}x   (restores before 2026-12-05; once / twice = {restoreMs / rereadMs:F2})");
            Console.WriteLine($"goal: the stall at most 2 % of a step; {(stallMs / stepMs <= 0.02 ? "met" : "not met")} here");
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Commits the last save and times what a restoring worker reads before loading: find the newest committed checkpoint,
    /// verify every file against the manifest and keep the model and optimizer bytes from that same read; beside it, the
    /// way restores read until 2026-12-05, verifying first and reading both files again. Medians of 3, alternating.
    /// </summary>
    private static async Task<(double Once, double Twice)> MedianRestoreReadAsync(IBlobStore store, RankSaveResult last, CancellationToken ct)
    {
        var manifest = CheckpointManifest.Create(Job, last.Step, generation: 1, worldSize: 1, configHash: Job, codeVersion: Job, last.Files);
        var commit = await CheckpointCommitter.CommitAsync(store, manifest, ct).ConfigureAwait(false);
        if (!commit.Succeeded) throw new InvalidOperationException($"the benchmark could not commit its checkpoint: {commit.Message}");
        var once = new List<double>();
        var twice = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            long started = Stopwatch.GetTimestamp();
            var selection = await CheckpointCatalog.FindNewestVerifiedAsync(
                store, Job, Job, (_, path) => path is CheckpointFiles.Model or CheckpointFiles.Optimizer, ct).ConfigureAwait(false);
            once.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (selection.Checkpoint?.Step != last.Step || selection.Files.Count != 2)
                throw new InvalidOperationException($"the benchmark's restore found step {selection.Checkpoint?.Step} with {selection.Files.Count} kept files, not step {last.Step} with 2");

            started = Stopwatch.GetTimestamp();
            var chosen = (await CheckpointCatalog.FindNewestVerifiedAsync(store, Job, Job, cancellationToken: ct).ConfigureAwait(false)).Checkpoint!;
            foreach (string path in new[] { CheckpointFiles.Model, CheckpointFiles.Optimizer })
            {
                // As those restores did: the store's own read, unchecked (it had just been verified), into memory.
                await using var download = await store.OpenReadAsync(CheckpointLayout.FileKey(Job, chosen.Step, path), cancellationToken: ct).ConfigureAwait(false);
                using var buffer = new MemoryStream();
                await download!.Content.CopyToAsync(buffer, ct).ConfigureAwait(false);
            }
            twice.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return (Measure.Median(once), Measure.Median(twice));
    }

    private static double Time(Action action)
    {
        long started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}
