using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Bench;
using CommerceMM.Tensors;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm bench …`: measured figures side by side with PyTorch on the same machine and thread settings.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that print figures and ratios against PyTorch run on the same machine, and the checkpoint store's throughput.");
        bench.Subcommands.Add(CreateEngine());
        bench.Subcommands.Add(BenchModelCommand.Create());
        bench.Subcommands.Add(MetricsBenchmark.CreateCommand());
        bench.Subcommands.Add(StorageBenchmark.CreateCommand());
        bench.Subcommands.Add(CheckpointBenchmark.CreateCommand());
        bench.Subcommands.Add(ControlPlaneBenchmark.CreateCommand());
        bench.Subcommands.Add(OverlapBenchmark.CreateCommand());
        bench.Subcommands.Add(CatalogBenchmark.CreateCommand());
        bench.Subcommands.Add(CreateAllReducePeer());
        bench.Subcommands.Add(OverlapBenchmark.CreatePeerCommand());
        return bench;
    }

    private const string EngineScript = "tools/bench/engine.py";

    private static Command CreateEngine()
    {
        var threads = new Option<int>("--threads") { Description = "intra-op threads for the single-process measurements (both engines)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var repo = CommonOptions.Repo(EngineScript);
        var rounds = new Option<int>("--rounds") { Description = "alternating rounds of ours and PyTorch; each figure is the median over rounds", DefaultValueFactory = _ => 3 };
        var command = new Command("engine", "matmul GFLOP/s, per-op overhead, transformer-layer step, 2-process all-reduce: TorchSharp (with our collectives) vs PyTorch.") { threads, rounds, repo };
        command.SetAction(result => RunEngine(result.GetValue(threads), result.GetValue(rounds), result.GetValue(repo)!));
        return command;
    }

    private static Command CreateAllReducePeer()
    {
        var rendezvous = new Option<string>("--rendezvous") { Required = true, Description = "folder the peers meet through (FileRendezvousStore)" };
        var rank = new Option<int>("--rank") { Required = true };
        var world = new Option<int>("--world") { Required = true };
        var elements = new Option<long>("--elements") { Required = true };
        var reps = new Option<int>("--reps") { Required = true };
        var command = new Command("allreduce-peer", "(internal) one rank of the all-reduce measurement") { rendezvous, rank, world, elements, reps };
        command.Hidden = true;
        command.SetAction(r =>
        {
            double ms = EngineBenchmark.AllReducePeer(r.GetValue(rendezvous)!, r.GetValue(rank), r.GetValue(world), r.GetValue(elements), r.GetValue(reps));
            if (r.GetValue(rank) == 0) Console.WriteLine(ms.ToString("R", CultureInfo.InvariantCulture));
        });
        return command;
    }

    private static int RunEngine(int threads, int rounds, DirectoryInfo repo)
    {
        CommonOptions.RequireAtLeast(1, ("--rounds", rounds), ("--threads", threads));
        string script = CommonOptions.PeerScript(repo, EngineScript);
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            Console.Error.WriteLine("warning: OMP_WAIT_POLICY is not set; with 2 threads on 2 cores OpenMP spinning can halve speed (set OMP_WAIT_POLICY=PASSIVE)");
        var config = new EngineBenchmarkConfig();
        TorchRuntime.NumThreads = threads;
        Console.WriteLine($"cmm bench engine: {threads} intra-op threads; layer B={config.Batch} L={config.Length} d={config.Dim} h={config.Heads} ffn={config.Ffn}; " +
                          $"all-reduce {config.AllReduceElements:N0} floats x 2 processes; median of {rounds} alternating rounds, each a median of repeats");

        string[] keys = ["matmul_gflops", "matmul_bf16_gflops", "op_overhead_us", "layer_step_ms", "allreduce_ms"];
        var ours = keys.ToDictionary(k => k, _ => new List<double>());
        var theirs = keys.ToDictionary(k => k, _ => new List<double>());
        string torchVersion = "";
        // Alternating rounds spread machine noise (other processes, thermal state) over both engines alike.
        for (int round = 1; round <= rounds; round++)
        {
            Console.Error.Write($"round {round}/{rounds}: TorchSharp ...");
            ours["matmul_gflops"].Add(EngineBenchmark.MatMulGflops());
            ours["matmul_bf16_gflops"].Add(EngineBenchmark.MatMulGflops(TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.BFloat16));
            ours["op_overhead_us"].Add(EngineBenchmark.OpOverheadMicroseconds());
            ours["layer_step_ms"].Add(EngineBenchmark.LayerStepMilliseconds(config));
            ours["allreduce_ms"].Add(MeasureAllReduce(config));
            Console.Error.WriteLine(" PyTorch ...");
            var py = PyTorchBaseline.Run(script, threads, new
            {
                layer = new { batch = config.Batch, length = config.Length, dim = config.Dim, heads = config.Heads, ffn = config.Ffn },
                allreduce_elements = config.AllReduceElements,
                allreduce_reps = config.AllReduceReps,
            });
            foreach (var k in keys) theirs[k].Add(py.GetProperty(k).GetDouble());
            torchVersion = py.GetProperty("torch").GetString() ?? "";
        }

        Console.WriteLine();
        Console.WriteLine($"{"measurement",-36} {"TorchSharp " + TorchSharpVersion,18} {"PyTorch " + torchVersion,18} {"time ratio",11}");
        Row("matmul 1024^3 (GFLOP/s)", Measure.Median(ours[keys[0]]), Measure.Median(theirs[keys[0]]), higherIsBetter: true);
        Row("matmul 1024^3 bf16 (GFLOP/s)", Measure.Median(ours[keys[1]]), Measure.Median(theirs[keys[1]]), higherIsBetter: true);
        Row("per-op overhead, 1-elem add (us)", Measure.Median(ours[keys[2]]), Measure.Median(theirs[keys[2]]));
        Row("encoder layer fwd+bwd+AdamW (ms)", Measure.Median(ours[keys[3]]), Measure.Median(theirs[keys[3]]));
        Row("all-reduce 10M floats, 2 proc (ms)", Measure.Median(ours[keys[4]]), Measure.Median(theirs[keys[4]]));
        Console.WriteLine("time ratio = TorchSharp's time / PyTorch's time (below 1.00: TorchSharp is faster)");
        // The most bf16 can gain on this machine: a step that was all GEMM would run at best this much faster than in fp32.
        Console.WriteLine($"bf16 ceiling: TorchSharp's bf16 matmul runs {Measure.Median(ours[keys[1]]) / Measure.Median(ours[keys[0]]):F2}x its fp32 matmul's rate");
        return 0;
    }

    /// <summary>The TorchSharp package this build runs (e.g. 0.107.0).</summary>
    internal static string TorchSharpVersion => typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3) ?? "?";

    private static void Row(string name, double ours, double theirs, bool higherIsBetter = false)
    {
        double ratio = higherIsBetter ? theirs / ours : ours / theirs;
        Console.WriteLine($"{name,-36} {ours,18:F2} {theirs,18:F2} {ratio,10:F2}x");
    }

    private static double MeasureAllReduce(EngineBenchmarkConfig config)
    {
        string rendezvous = Directory.CreateTempSubdirectory("cmm-bench-rendezvous-").FullName;
        try
        {
            return MeasureAllReduce(config, rendezvous);
        }
        finally
        {
            Directory.Delete(rendezvous, recursive: true);
        }
    }

    private static double MeasureAllReduce(EngineBenchmarkConfig config, string rendezvous)
    {
        var peers = Enumerable.Range(0, 2).Select(rank => SelfProcess.Start(
        [
            "bench", "allreduce-peer", "--rendezvous", rendezvous, "--rank", rank.ToString(CultureInfo.InvariantCulture),
            "--world", "2", "--elements", config.AllReduceElements.ToString(CultureInfo.InvariantCulture), "--reps", config.AllReduceReps.ToString(CultureInfo.InvariantCulture),
        ])).ToList();
        var outputs = peers.Select(p => p.StandardOutput.ReadToEndAsync()).ToList();
        foreach (var p in peers)
        {
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"all-reduce peer failed ({p.ExitCode}): {p.StandardError.ReadToEnd()}");
        }
        return double.Parse(outputs[0].Result.Trim(), CultureInfo.InvariantCulture);
    }
}
