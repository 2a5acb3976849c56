using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CommerceMM.Cli.Bench;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// `cmm bench model`: our CommerceMM training step against the PyTorch reference's
/// (tools/reference/train_step.py), the two-pass step against one backward per task, and achieved
/// GFLOP/s as a share of the engine's matmul rate. Medians over alternating rounds.
/// </summary>
internal static class BenchModelCommand
{
    private const ulong Seed = 1;

    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "model preset: tiny, small or base", DefaultValueFactory = _ => "tiny" };
        var rounds = new Option<int>("--rounds") { Description = "alternating rounds of ours and PyTorch; each figure is the median over rounds", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch") { Description = "pairs per step (pass 1) and source/target pairs (pass 2)", DefaultValueFactory = _ => 32 };
        var reps = new Option<int>("--reps") { Description = "timed steps per measurement in a round (after 3 warm-up steps)", DefaultValueFactory = _ => 8 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads (both engines)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var repo = new Option<DirectoryInfo>("--repo") { Description = "repository root (for tools/reference)", DefaultValueFactory = _ => new DirectoryInfo(Directory.GetCurrentDirectory()) };
        var command = new Command("model", "CommerceMM step: ours vs the PyTorch reference, two passes vs 14 backwards, GFLOP/s vs matmul.")
        {
            preset, rounds, batch, reps, threads, repo,
        };
        command.SetAction(r => Run(r.GetValue(preset)!, r.GetValue(rounds), r.GetValue(batch), r.GetValue(reps), r.GetValue(threads), r.GetValue(repo)!));
        return command;
    }

    private static int Run(string presetName, int rounds, int batch, int reps, int threads, DirectoryInfo repo)
    {
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), rounds, "--rounds must be at least 1");
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            Console.Error.WriteLine("warning: OMP_WAIT_POLICY is not set; with 2 threads on 2 cores OpenMP spinning can halve speed (set OMP_WAIT_POLICY=PASSIVE)");
        TorchRuntime.NumThreads = threads;
        var config = CommerceMMConfig.Preset(presetName);
        string script = Path.Combine(repo.FullName, "tools/reference/train_step.py");
        string dump = Directory.CreateTempSubdirectory("cmm-bench-model-").FullName;
        try
        {
            // The reference trains the same weights on the same batch: both come from a step dump.
            StepDump.Write(config, new StepDumpOptions { Rows = batch, Seed = Seed }, dump);
            using var bench = new ModelBenchmark(config, batch, Seed);
            var allocation = StepRandom.Allocation(config.EffectiveAllocations, Seed, 0);
            double flops = ModelFlops.PerStep(config, bench.Pairs, bench.Omni, allocation);
            double perTaskFlops = ModelFlops.PerTaskSteps(config, bench.Pairs, bench.Omni, allocation);
            Console.WriteLine($"cmm bench model: preset {presetName} (d={config.Dim}, T={config.Text.Layers}, V={config.Image.Layers}, F={config.FusionLayers}), " +
                              $"batch {batch}, allocation {allocation}, {threads} intra-op threads; {flops / 1e9:F2} GFLOP per step (analytic); " +
                              $"median of {rounds} alternating rounds of {reps} steps each");

            var ours = new List<double>();
            var perTask = new List<double>();
            var theirs = new List<double>();
            var matmul = new List<double>();
            string torchVersion = "";
            // Alternating rounds spread machine noise (other processes, thermal state) over both engines alike.
            for (int round = 1; round <= rounds; round++)
            {
                Console.Error.Write($"round {round}/{rounds}: ours ...");
                ours.Add(bench.TwoPassStepMilliseconds(reps));
                Console.Error.Write(" per-task ...");
                perTask.Add(bench.PerTaskStepMilliseconds(reps));
                Console.Error.Write(" matmul ...");
                matmul.Add(EngineBenchmark.MatMulGflops());
                Console.Error.WriteLine(" PyTorch ...");
                var py = RunReference(script, dump, threads, reps);
                theirs.Add(py.GetProperty("step_ms").GetDouble());
                torchVersion = py.GetProperty("torch").GetString() ?? "";
            }

            double oursMs = Measure.Median(ours), theirsMs = Measure.Median(theirs), perTaskMs = Measure.Median(perTask), matmulRate = Measure.Median(matmul);
            Console.WriteLine();
            Console.WriteLine($"{"measurement",-44} {"ours",10} {"PyTorch " + torchVersion,16} {"ratio",9}");
            Console.WriteLine($"{"training step, both passes + AdamW (ms)",-44} {oursMs,10:F1} {theirsMs,16:F1} {oursMs / theirsMs,8:F2}x");
            Console.WriteLine($"{"samples/s (pairs + omni pairs per step)",-44} {batch * 1e3 / oursMs,10:F1} {batch * 1e3 / theirsMs,16:F1}");
            Console.WriteLine($"{"14 separate forward/backward passes (ms)",-44} {perTaskMs,10:F1} {"",16} {perTaskMs / oursMs,8:F2}x slower than two passes");
            Console.WriteLine($"{"  analytic FLOPs, 14 passes / two passes",-44} {perTaskFlops / flops,10:F2}x (the most sharing encoder runs can save)");
            double achieved = flops / (oursMs / 1e3) / 1e9;
            Console.WriteLine($"{"achieved GFLOP/s (analytic FLOPs / step time)",-44} {achieved,10:F1} {flops / (theirsMs / 1e3) / 1e9,16:F1}");
            Console.WriteLine($"{"engine matmul 1024^3 (GFLOP/s)",-44} {matmulRate,10:F1}");
            Console.WriteLine($"{"share of the matmul rate",-44} {achieved / matmulRate,10:P0}");
            Console.WriteLine("ratio = our time / PyTorch's time (below 1.00: we are faster)");
            return 0;
        }
        finally
        {
            Directory.Delete(dump, recursive: true);
        }
    }

    private static JsonElement RunReference(string script, string dump, int threads, int reps) =>
        PyTorchBaseline.RunScript(script, dump, threads.ToString(CultureInfo.InvariantCulture), reps.ToString(CultureInfo.InvariantCulture));
}
