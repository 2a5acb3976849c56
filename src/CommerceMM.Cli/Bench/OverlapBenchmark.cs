using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using CommerceMM.Cli.Commands;
using CommerceMM.Collectives;
using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench overlap`: how much of the gradient all-reduce the overlap with backward hides. Two worker
/// processes train the same model from the same seed twice per round: once sending buckets during the
/// last backward (the product), once after it (the reference, all-reduce fully exposed). The hidden share
/// is 1 − (the wait left after backward with overlap) / (the wait without). Both runs must end with the
/// same weights, bit for bit: overlap moves when the all-reduce runs, never what it computes.
/// </summary>
internal static class OverlapBenchmark
{
    private const ulong Seed = 1;

    private sealed record PeerResult(double[] StepMs, double[] ExposedMs, int SentDuringBackward, int Buckets, string WeightsSha256);

    public static Command CreateCommand()
    {
        var preset = CommonOptions.Preset("small");
        var rows = new Option<int>("--rows") { Description = "pairs per worker per step", DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { Description = "timed steps per run (after 2 warm-up steps)", DefaultValueFactory = _ => 8 };
        var rounds = new Option<int>("--rounds") { Description = "rounds of (overlapped, reference); figures are medians over all timed steps", DefaultValueFactory = _ => 3 };
        var bucketMb = new Option<double>("--bucket-mb") { Description = "gradient bucket size in MiB (training's default: 25)", DefaultValueFactory = _ => 25 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads per worker", DefaultValueFactory = _ => 1 };
        var precision = new Option<string>("--precision") { Description = "fp32 or bf16 (model.precision)", DefaultValueFactory = _ => "fp32" };
        var command = new Command("overlap", "2 workers: gradient all-reduce overlapped with backward vs after it, same seed and batches; hidden share, step times, identical weights.")
        {
            preset, rows, steps, rounds, bucketMb, threads, precision,
        };
        command.SetAction(r => Run(r.GetValue(preset)!, r.GetValue(rows), r.GetValue(steps), r.GetValue(rounds), r.GetValue(bucketMb), r.GetValue(threads),
            DeviceSettings.ParsePrecision(r.GetValue(precision)!, "--precision")));
        return command;
    }

    public static Command CreatePeerCommand()
    {
        var rendezvous = new Option<string>("--rendezvous") { Required = true, Description = "folder the peers meet through (FileRendezvousStore)" };
        var rank = new Option<int>("--rank") { Required = true };
        var preset = new Option<string>("--preset") { Required = true };
        var rows = new Option<int>("--rows") { Required = true };
        var steps = new Option<int>("--steps") { Required = true };
        var overlap = new Option<bool>("--overlap") { Required = true };
        var bucketBytes = new Option<long>("--bucket-bytes") { Required = true };
        var threads = new Option<int>("--threads") { Required = true };
        var precision = new Option<string>("--precision") { Required = true };
        var command = new Command("overlap-peer", "(internal) one worker of `cmm bench overlap`") { rendezvous, rank, preset, rows, steps, overlap, bucketBytes, threads, precision };
        command.Hidden = true;
        command.SetAction(r =>
        {
            var result = Peer(r.GetValue(rendezvous)!, r.GetValue(rank), CommerceMMConfig.Preset(r.GetValue(preset)!), r.GetValue(rows), r.GetValue(steps),
                r.GetValue(overlap), r.GetValue(bucketBytes), r.GetValue(threads), DeviceSettings.ParsePrecision(r.GetValue(precision)!, "--precision"));
            Console.WriteLine(JsonSerializer.Serialize(result));
        });
        return command;
    }

    private static int Run(string presetName, int rows, int steps, int rounds, double bucketMb, int threads, Precision precision)
    {
        CommonOptions.RequireAtLeast(1, ("--rows", rows), ("--steps", steps), ("--rounds", rounds), ("--threads", threads));
        if (!(bucketMb > 0)) throw new ArgumentException($"--bucket-mb must be > 0, got {bucketMb}");
        long bucketBytes = (long)(bucketMb * (1 << 20));
        Console.WriteLine($"cmm bench overlap: preset {presetName} ({precision.ToString().ToLowerInvariant()}), 2 workers x {rows} pairs, {threads} thread(s) each, {bucketMb} MiB buckets; " +
                          $"{rounds} rounds of {steps} steps overlapped and {steps} after backward, from seed {Seed}");
        var overlapped = new List<PeerResult>();
        var reference = new List<PeerResult>();
        for (int round = 1; round <= rounds; round++)
        {
            Console.Error.WriteLine($"round {round}/{rounds}: overlapped ...");
            overlapped.Add(RunPeers(presetName, rows, steps, overlap: true, bucketBytes, threads, precision));
            Console.Error.WriteLine($"round {round}/{rounds}: all-reduce after backward ...");
            reference.Add(RunPeers(presetName, rows, steps, overlap: false, bucketBytes, threads, precision));
        }

        double stepOn = Measure.Median(overlapped.SelectMany(r => r.StepMs)), stepOff = Measure.Median(reference.SelectMany(r => r.StepMs));
        double waitOn = Measure.Median(overlapped.SelectMany(r => r.ExposedMs)), waitOff = Measure.Median(reference.SelectMany(r => r.ExposedMs));
        int buckets = overlapped[0].Buckets;
        Console.WriteLine();
        Console.WriteLine($"{"all-reduce",-22} {"step ms",10} {"wait after backward ms",24} {"buckets sent in backward",26}");
        Console.WriteLine($"{"after backward",-22} {stepOff,10:F1} {waitOff,24:F2} {$"{reference.Min(r => r.SentDuringBackward)}/{buckets}",26}");
        Console.WriteLine($"{"overlapped",-22} {stepOn,10:F1} {waitOn,24:F2} {$"{overlapped.Min(r => r.SentDuringBackward)}/{buckets}",26}");
        Console.WriteLine($"hidden share of the all-reduce: {Math.Max(0, 1 - waitOn / waitOff):P0} (1 - {waitOn:F2} / {waitOff:F2} ms); " +
                          $"step time ratio overlapped / after: {stepOn / stepOff:F3}x");
        var digests = overlapped.Concat(reference).Select(r => r.WeightsSha256).Distinct().ToList();
        if (digests.Count != 1)
        {
            Console.WriteLine($"weights differ between runs ({string.Join(", ", digests.Select(d => d[..12]))}): overlap changed what the all-reduce computed");
            return 1;
        }
        Console.WriteLine($"weights after every run: identical (SHA-256 {digests[0][..16]}…)");
        return 0;
    }

    private static PeerResult RunPeers(string preset, int rows, int steps, bool overlap, long bucketBytes, int threads, Precision precision)
    {
        string rendezvous = Directory.CreateTempSubdirectory("cmm-bench-overlap-").FullName;
        try
        {
            var peers = Enumerable.Range(0, 2).Select(rank => SelfProcess.Start(
            [
                "bench", "overlap-peer", "--rendezvous", rendezvous, "--rank", rank.ToString(CultureInfo.InvariantCulture), "--preset", preset,
                "--rows", rows.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture),
                "--overlap", overlap ? "true" : "false", "--bucket-bytes", bucketBytes.ToString(CultureInfo.InvariantCulture),
                "--threads", threads.ToString(CultureInfo.InvariantCulture), "--precision", precision.ToString().ToLowerInvariant(),
            ])).ToList();
            var outputs = peers.Select(p => p.StandardOutput.ReadToEndAsync()).ToList();
            var errors = peers.Select(p => p.StandardError.ReadToEndAsync()).ToList();
            for (int i = 0; i < peers.Count; i++)
            {
                peers[i].WaitForExit();
                if (peers[i].ExitCode != 0) throw new InvalidOperationException($"overlap peer {i} failed ({peers[i].ExitCode}): {errors[i].Result}");
            }
            var results = outputs.Select(o => JsonSerializer.Deserialize<PeerResult>(o.Result.Trim().Split('\n')[^1])!).ToList();
            if (results[0].WeightsSha256 != results[1].WeightsSha256)
                throw new InvalidOperationException("the two workers ended with different weights: the all-reduce did not leave them equal");
            return results[0];
        }
        finally
        {
            Directory.Delete(rendezvous, recursive: true);
        }
    }

    private static PeerResult Peer(string rendezvous, int rank, CommerceMMConfig config, int rows, int steps, bool overlap, long bucketBytes, int threads, Precision precision)
    {
        TorchRuntime.NumThreads = threads;
        using var group = ProcessGroup.Create(new FileRendezvousStore(rendezvous), rank, 2, CPU, TimeSpan.FromSeconds(120));
        using var model = new CommerceMMModel(config, Seed, new DeviceSettings(CPU, precision));
        using var batch = new SyntheticBatch(config, rows, Seed + 1 + (ulong)rank);
        using var trainer = new Trainer(model, new TrainerOptions { Seed = Seed, BucketBytes = bucketBytes, OverlapAllReduce = overlap }, group);
        var stepMs = new List<double>();
        var exposedMs = new List<double>();
        int sent = int.MaxValue;
        const int warmup = 2;
        for (int step = 0; step < warmup + steps; step++)
        {
            group.Barrier(); // both workers start each step together, so a wait measures the all-reduce, not the other's lag
            long start = Stopwatch.GetTimestamp();
            var result = trainer.Step(batch.Pairs, batch.Omni, step);
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (step < warmup) continue;
            stepMs.Add(ms);
            exposedMs.Add(result.Timings.AllReduce * 1e3);
            sent = Math.Min(sent, trainer.BucketsSentDuringBackward);
        }
        return new PeerResult(stepMs.ToArray(), exposedMs.ToArray(), sent, trainer.BucketCount, WeightsSha256(trainer.Optimizer.Flat.Values));
    }

    private static string WeightsSha256(Tensor values)
    {
        using var cpu = values.cpu();
        return Convert.ToHexString(SHA256.HashData(cpu.bytes.ToArray())).ToLowerInvariant();
    }
}
