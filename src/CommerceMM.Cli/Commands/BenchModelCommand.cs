using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CommerceMM.Cli.Bench;
using CommerceMM.Collectives;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Training;
using CommerceMM.Worker.Training;
using CommerceMM.Observability.Metrics;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// `cmm bench model`: our CommerceMM training step against the PyTorch reference's
/// (tools/reference/train_step.py), the two-pass step against one backward per task, and achieved
/// GFLOP/s as a share of the engine's matmul rate. Medians over alternating rounds.
/// </summary>
internal static class BenchModelCommand
{
    private const ulong Seed = 1;
    private const string ReferenceScript = "tools/reference/train_step.py";

    public static Command Create()
    {
        var preset = CommonOptions.Preset();
        var rounds = new Option<int>("--rounds") { Description = "alternating rounds of TorchSharp and PyTorch; each figure is the median over rounds", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch") { Description = "pairs per step (pass 1) and source/target pairs (pass 2)", DefaultValueFactory = _ => 32 };
        var reps = new Option<int>("--reps") { Description = "timed steps per measurement in a round (after 3 warm-up steps)", DefaultValueFactory = _ => 8 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads (both engines)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var precisions = new Option<string>("--precision")
        {
            Description = "our step's precisions, comma-separated (fp32, bf16); on the CPU each is timed against PyTorch's fp32 step, on a GPU against PyTorch's own step in that precision (bf16: autocast) " +
                          "[default: fp32, and bf16 where the device computes it natively]",
        };
        var device = CommonOptions.Device();
        var repo = CommonOptions.Repo(ReferenceScript);
        var profile = new Option<bool>("--profile") { Description = "also time each part of the step (passes' forwards and backwards, clip, AdamW, teacher, ...) on both engines, with its share of the step" };
        var command = new Command("model", "CommerceMM step on TorchSharp (fp32 and bf16) vs the PyTorch reference's step on the same device, two passes vs 14 backwards, GFLOP/s vs matmul, peak memory.")
        {
            preset, rounds, batch, reps, threads, precisions, device, repo, profile,
        };
        command.SetAction(r => Run(r.GetValue(preset)!, r.GetValue(rounds), r.GetValue(batch), r.GetValue(reps), r.GetValue(threads), r.GetValue(precisions) is { } named ? ParsePrecisions(named) : null,
            r.GetValue(device)!, r.GetValue(repo)!, r.GetValue(profile)));
        return command;
    }

    internal static IReadOnlyList<Precision> ParsePrecisions(string text)
    {
        var list = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => DeviceSettings.ParsePrecision(p, "--precision")).Distinct().ToList();
        return list.Count > 0 ? list : throw new ArgumentException("--precision: name at least one of fp32, bf16");
    }

    /// <summary>The device's settings in each precision named; with none named, fp32 and bf16 where the device computes it natively (else it says why bf16 is left out).</summary>
    internal static Dictionary<Precision, DeviceSettings> ResolvePrecisions(string deviceText, IReadOnlyList<Precision>? named)
    {
        if (named is not null) return named.ToDictionary(p => p, p => CommonOptions.Resolve(deviceText, Name(p)));
        var settings = new Dictionary<Precision, DeviceSettings> { [Precision.Fp32] = CommonOptions.Resolve(deviceText, "fp32") };
        try
        {
            settings[Precision.Bf16] = CommonOptions.Resolve(deviceText, "bf16");
        }
        catch (ArgumentException noBf16)
        {
            // A bare `cmm bench model` should measure what this machine can run, not stop at what it cannot.
            Console.Error.WriteLine($"bf16 left out: {noBf16.Message}");
        }
        return settings;
    }

    private static int Run(string presetName, int rounds, int batch, int reps, int threads, IReadOnlyList<Precision>? named, string deviceText, DirectoryInfo repo, bool profile)
    {
        CommonOptions.RequireAtLeast(1, ("--rounds", rounds), ("--batch", batch), ("--reps", reps), ("--threads", threads));
        string script = CommonOptions.PeerScript(repo, ReferenceScript);
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            Console.Error.WriteLine("warning: OMP_WAIT_POLICY is not set; with 2 threads on 2 cores OpenMP spinning can halve speed (set OMP_WAIT_POLICY=PASSIVE)");
        var settings = ResolvePrecisions(deviceText, named);
        IReadOnlyList<Precision> precisions = [.. settings.Keys];
        var device = settings[precisions[0]].Device;
        bool cuda = device.type == DeviceType.CUDA;
        if (!cuda) HostMemoryLimit.CapAtAvailable(); // the PyTorch peer inherits it
        // On a GPU the peer runs in each of our precisions (bf16 with autocast); on the CPU it is the fp32 step the goals are set against.
        IReadOnlyList<Precision> theirPrecisions = cuda ? precisions : [Precision.Fp32];
        TorchRuntime.NumThreads = threads;
        var config = CommerceMMConfig.Preset(presetName);
        string dump = Directory.CreateTempSubdirectory("cmm-bench-model-").FullName;
        var benches = new List<(Precision Precision, ModelBenchmark Bench)>();
        try
        {
            // The reference trains the same weights on the same batch (in fp32): both come from a step dump.
            StepDump.Write(config, new StepDumpOptions { Rows = batch, Seed = Seed }, dump, settings.GetValueOrDefault(Precision.Fp32) ?? settings[precisions[0]] with { Precision = Precision.Fp32 });
            foreach (var p in precisions) benches.Add((p, new ModelBenchmark(config, batch, Seed, settings[p])));
            var first = benches[0].Bench;
            var allocation = StepRandom.Allocation(config.EffectiveAllocations, Seed, 0);
            double flops = ModelFlops.PerStep(config, first.Pairs, first.Omni, allocation);
            double perTaskFlops = ModelFlops.PerTaskSteps(config, first.Pairs, first.Omni, allocation);
            var matmulType = cuda ? ScalarType.BFloat16 : ScalarType.Float32;
            Console.WriteLine($"cmm bench model: preset {presetName} (d={config.Dim}, T={config.Text.Layers}, V={config.Image.Layers}, F={config.FusionLayers}), " +
                              $"batch {batch}, allocation {allocation}, on {device}, {threads} intra-op threads, TorchSharp {BenchCommand.TorchSharpVersion} in {string.Join(" and ", precisions.Select(Name))}; " +
                              $"{flops / 1e9:F2} GFLOP per step (analytic); median of {rounds} alternating rounds of {reps} steps each");
            if (!cuda)
            {
                Console.WriteLine($"MKL: {MklCpuPath.Decision}");
                Console.WriteLine($"text and image encoders: {(first.EncodersSideBySide && threads >= 2 ? "side by side, each on half the threads" : "one after the other")}");
            }

            var ours = precisions.ToDictionary(p => p, _ => new List<double>());
            var oursCpu = precisions.ToDictionary(p => p, _ => new List<double>());
            var perTask = new List<double>();
            var theirs = theirPrecisions.ToDictionary(p => p, _ => new List<double>());
            var theirsCpu = theirPrecisions.ToDictionary(p => p, _ => new List<double>());
            var theirPeak = new Dictionary<Precision, long>();
            var matmul = new List<double>();
            long ourDevicePeak = 0;
            string torchVersion = "";
            // Alternating rounds spread machine noise (other processes, thermal state) over both engines alike.
            for (int round = 1; round <= rounds; round++)
            {
                Console.Error.Write($"round {round}/{rounds}:");
                foreach (var (p, bench) in benches)
                {
                    Console.Error.Write($" TorchSharp {Name(p)} ...");
                    var (wall, cpu) = bench.TwoPassStep(reps);
                    ours[p].Add(wall);
                    oursCpu[p].Add(cpu);
                    if (cuda) ourDevicePeak = Math.Max(ourDevicePeak, CudaMemory.Query(Math.Max(0, (int)device.index)).Used);
                }
                Console.Error.Write(" per-task ...");
                perTask.Add(first.PerTaskStepMilliseconds(reps));
                Console.Error.Write(" matmul ...");
                matmul.Add(EngineBenchmark.MatMulGflops(device, matmulType));
                foreach (var p in theirPrecisions)
                {
                    Console.Error.Write($" PyTorch {Name(p)} ...");
                    var py = RunReference(script, dump, threads, reps, deviceText, p);
                    theirs[p].Add(py.GetProperty("step_ms").GetDouble());
                    theirsCpu[p].Add(py.GetProperty("cpu_ms").GetDouble());
                    if (py.TryGetProperty("peak_bytes", out var peak)) theirPeak[p] = Math.Max(theirPeak.GetValueOrDefault(p), peak.GetInt64());
                    torchVersion = py.GetProperty("torch").GetString() ?? "";
                }
                Console.Error.WriteLine();
            }

            double perTaskMs = Measure.Median(perTask), matmulRate = Measure.Median(matmul);
            double firstMs = Measure.Median(ours[precisions[0]]);
            Console.WriteLine();
            Console.WriteLine($"{"measurement",-46} {"TorchSharp",10} {"PyTorch " + torchVersion,20} {"ratio",9}");
            foreach (var p in precisions)
            {
                var q = theirs.ContainsKey(p) ? p : Precision.Fp32;
                double ms = Measure.Median(ours[p]), theirsMs = Measure.Median(theirs[q]), theirsCpuMs = Measure.Median(theirsCpu[q]);
                Console.WriteLine($"{$"training step {Name(p)} vs PyTorch {Name(q)} (ms)",-46} {ms,10:F1} {theirsMs,20:F1} {ms / theirsMs,8:F2}x");
                Console.WriteLine($"{$"  samples/s {Name(p)} (pairs + omni pairs per step)",-46} {batch * 1e3 / ms,10:F1} {batch * 1e3 / theirsMs,20:F1}");
                double cpuMs = Measure.Median(oursCpu[p]);
                Console.WriteLine($"{$"  CPU time per step {Name(p)}, all threads (ms)",-46} {cpuMs,10:F1} {theirsCpuMs,20:F1} {cpuMs / theirsCpuMs,8:F2}x");
                double achievedP = flops / (ms / 1e3) / 1e9;
                if (cuda) Console.WriteLine($"{$"  MFU {Name(p)} (achieved / bf16 matmul rate)",-46} {achievedP / matmulRate,10:P1} {flops / (theirsMs / 1e3) / 1e9 / matmulRate,20:P1}");
            }
            Console.WriteLine($"{$"14 separate forward/backward passes, {Name(precisions[0])} (ms)",-46} {perTaskMs,10:F1} {"",20} {perTaskMs / firstMs,8:F2}x slower than two passes");
            Console.WriteLine($"{"  analytic FLOPs, 14 passes / two passes",-46} {perTaskFlops / flops,10:F2}x (the most sharing encoder runs can save)");
            double achieved = flops / (firstMs / 1e3) / 1e9;
            double theirFirst = Measure.Median(theirs[theirs.ContainsKey(precisions[0]) ? precisions[0] : Precision.Fp32]);
            Console.WriteLine($"{$"achieved GFLOP/s {Name(precisions[0])} (analytic FLOPs / step time)",-46} {achieved,10:F1} {flops / (theirFirst / 1e3) / 1e9,20:F1}");
            Console.WriteLine($"{$"engine matmul {(cuda ? "8192^3 bf16" : "1024^3 fp32")} (GFLOP/s)",-46} {matmulRate,10:F1}");
            Console.WriteLine($"{"share of the matmul rate",-46} {achieved / matmulRate,10:P0}");
            string hostPeak = ProcessMemory.PeakResidentBytes() is { } host ? $"{host / (double)(1L << 30):F2}" : "?";
            Console.WriteLine($"{"peak host memory, resident (GiB)",-46} {hostPeak,10}");
            if (cuda)
            {
                string theirsPeak = string.Join(" / ", theirPrecisions.Select(p => theirPeak.TryGetValue(p, out long b) ? $"{b / (double)(1L << 30):F2}" : "?"));
                Console.WriteLine($"{"peak GPU memory (GiB; PyTorch: reserved, " + string.Join("/", theirPrecisions.Select(Name)) + ")",-46} {ourDevicePeak / (double)(1L << 30),10:F2} {theirsPeak,20}");
            }
            Console.WriteLine(cuda
                ? "ratio = TorchSharp's time / PyTorch's in the same precision (goal at base, 128 + 128, bf16: at most 0.50, MFU at least 40 %, peak memory at most 40 GiB)"
                : "ratio = TorchSharp's time / PyTorch's fp32 time (below 1.00: TorchSharp is faster; goals: fp32 at most 1.00, bf16 at most 0.50)");
            if (profile) PrintProfile(benches, script, dump, threads, reps, deviceText);
            return 0;
        }
        finally
        {
            foreach (var (_, bench) in benches) bench.Dispose();
            Directory.Delete(dump, recursive: true);
        }
    }

    private static string Name(Precision p) => p == Precision.Bf16 ? "bf16" : "fp32";

    /// <summary>Each part of the step on each engine: median ms and share of the parts' sum, ours then PyTorch's (one run each, after the rounds).</summary>
    private static void PrintProfile(List<(Precision Precision, ModelBenchmark Bench)> benches, string script, string dump, int threads, int reps, string device)
    {
        Console.Error.WriteLine("profile: TorchSharp and PyTorch, part by part ...");
        var columns = benches.Select(b => ($"TorchSharp {Name(b.Precision)}", b.Bench.Profile(reps))).ToList();
        var py = PyTorchBaseline.RunScript(script, dump, threads.ToString(CultureInfo.InvariantCulture), reps.ToString(CultureInfo.InvariantCulture), "--profile", "--device", device);
        columns.Add(("PyTorch fp32", py.GetProperty("components_ms").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble())));
        Console.WriteLine();
        Console.WriteLine($"{"part of the step (median ms, share)",-30}" + string.Concat(columns.Select(c => $" {c.Item1,22}")));
        foreach (string part in ModelBenchmark.Components)
        {
            Console.Write($"{part,-30}");
            foreach (var (_, times) in columns)
            {
                double total = times.Values.Sum();
                Console.Write(times.TryGetValue(part, out double ms) ? $" {ms,14:F2} ({ms / total,5:P0})" : $" {"-",22}");
            }
            Console.WriteLine();
        }
        Console.WriteLine($"{"sum of the parts",-30}" + string.Concat(columns.Select(c => $" {c.Item2.Values.Sum(),14:F2}        ")));
    }

    private static JsonElement RunReference(string script, string dump, int threads, int reps, string device, Precision precision) =>
        PyTorchBaseline.RunScript(script, dump, threads.ToString(CultureInfo.InvariantCulture), reps.ToString(CultureInfo.InvariantCulture),
            "--device", device, "--precision", Name(precision));
}
