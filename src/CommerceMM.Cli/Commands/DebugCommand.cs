using System.CommandLine;
using System.Globalization;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm debug …`: tools for checking the model against an independent implementation.</summary>
internal static class DebugCommand
{
    public static Command Create()
    {
        var debug = new Command("debug", "Debugging aids: step dumps for the PyTorch reference (tools/reference).");
        debug.Subcommands.Add(CreateDumpStep());
        return debug;
    }

    private static Command CreateDumpStep()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "directory to write inputs/weights/gradients .safetensors, config.json and losses.json into", Required = true };
        var preset = new Option<string>("--preset") { Description = "model preset: tiny, small or base", DefaultValueFactory = _ => "tiny" };
        var rows = new Option<int>("--rows") { Description = "rows of the synthetic pass-1 and pass-2 batches", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "seeds weights, batch and the step's random choices", DefaultValueFactory = _ => 1 };
        var weights = new Option<string?>("--weights") { Description = "task weights over the preset's, e.g. itm=2,omni_v2t=0 (0 disables a task)" };
        var warmup = new Option<int>("--warmup-steps") { Description = "full training steps before the dumped one (so the MIM teacher and centre differ from their start)", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("dump-step", "Run one step's two passes and backwards (no optimizer update) and write everything needed to recompute it.")
        {
            output, preset, rows, seed, weights, warmup, threads,
        };
        command.SetAction(r =>
        {
            Torch.Torch.NumThreads = r.GetValue(threads);
            var config = CommerceMMConfig.Preset(r.GetValue(preset)!);
            config = config with { TaskWeights = ParseWeights(r.GetValue(weights), config.TaskWeights) };
            var options = new StepDumpOptions { Rows = r.GetValue(rows), Seed = r.GetValue(seed), WarmupSteps = r.GetValue(warmup) };
            string dir = r.GetValue(output)!.FullName;
            var result = StepDump.Write(config, options, dir);
            Console.WriteLine($"step {result.Step}, allocation {result.Allocation}, {options.Rows} rows -> {dir}");
            foreach (var t in result.Tasks)
                Console.WriteLine($"  {t.Task,-9} {StepDumpJson.Status(t.Status),-8} loss {t.Loss,10:F6}  weight {t.Weight:G4}");
            Console.WriteLine($"  pass 1 {result.Pass1Total:F6}  pass 2 {result.Pass2Total:F6}  grad norm {result.GradNorm:F6}");
            return 0;
        });
        return command;
    }

    /// <summary>"itm=2,omni_v2t=0" over the given weights; names and values are checked by the config's validation.</summary>
    internal static IReadOnlyDictionary<string, double> ParseWeights(string? text, IReadOnlyDictionary<string, double> baseWeights)
    {
        var result = new Dictionary<string, double>(baseWeights);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0 || !double.TryParse(part[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
                throw new ConfigException("--weights", $"'{part}' is not task=weight (e.g. itm=2,omni_v2t=0)");
            result[part[..eq].Trim()] = w;
        }
        return result;
    }
}
