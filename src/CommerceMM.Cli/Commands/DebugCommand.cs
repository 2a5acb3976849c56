using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Hosting;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Debugging;
using CommerceMM.Tensors;
using CommerceMM.Worker.Training;

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
        var model = new Option<string>("--model") { Description = "which model's step to dump: commercemm (reference tools/reference/commercemm.py) or scale (tools/reference/scale.py)", DefaultValueFactory = _ => "commercemm" };
        var preset = CommonOptions.Preset(description: "model preset: tiny, small or base (scale: tiny)");
        var rows = new Option<int>("--rows") { Description = "rows of the synthetic batches", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "seeds weights, batch and the step's random choices", DefaultValueFactory = _ => 1 };
        var weights = new Option<string?>("--weights") { Description = "task weights over the preset's, e.g. itm=2,omni_v2t=0 or masked_audio=0 (0 disables a task)" };
        var warmup = new Option<int>("--warmup-steps") { Description = "full training steps before the dumped one (so the weights differ from their initialisation)", DefaultValueFactory = _ => 0 };
        var modalities = new Option<string?>("--modalities") { Description = "scale: the modalities the model enables, e.g. image,text,table (default all five)" };
        var presence = new Option<string>("--presence") { Description = "scale: which modalities each synthetic row has: mixed (rows lacking some, one row in four having only one) or all", DefaultValueFactory = _ => "mixed" };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var command = new Command("dump-step", "Run one step's forward and backward passes (no optimizer update) and write everything needed to recompute it (the reference replays it in fp32).")
        {
            output, model, preset, rows, seed, weights, warmup, modalities, presence, threads, device, precision,
        };
        command.SetAction(r =>
        {
            CommonOptions.RequireAtLeast(1, ("--rows", r.GetValue(rows)), ("--threads", r.GetValue(threads)));
            CommonOptions.RequireAtLeast(0, ("--warmup-steps", r.GetValue(warmup)));
            OutputFolder.EnsureWritable(r.GetValue(output)!.FullName, "--out");
            TorchRuntime.NumThreads = r.GetValue(threads);
            var settings = CommonOptions.Resolve(r.GetValue(device)!, r.GetValue(precision)!);
            if (settings.Device.type != TorchSharp.DeviceType.CUDA) HostMemoryLimit.CapAtAvailable();   // too many --rows: one line, not the OOM killer
            var options = new StepDumpOptions { Rows = r.GetValue(rows), Seed = r.GetValue(seed), WarmupSteps = r.GetValue(warmup) };
            string dir = r.GetValue(output)!.FullName;
            string presetName = r.GetValue(preset)!, weightText = r.GetValue(weights) ?? "";
            switch (r.GetValue(model)!.Trim().ToLowerInvariant())
            {
                case "commercemm":
                    if (r.GetValue(modalities) is not null) throw new ConfigException("--modalities", "applies to --model scale only");
                    DumpCommerceMM(presetName, weightText, options, dir, settings);
                    break;
                case "scale":
                    DumpScale(presetName, weightText, r.GetValue(modalities), r.GetValue(presence)!, options, dir, settings);
                    break;
                default:
                    throw new ConfigException("--model", $"unknown model '{r.GetValue(model)}' (known: commercemm, scale)");
            }
            return 0;
        });
        return command;
    }

    private static void DumpCommerceMM(string preset, string weights, StepDumpOptions options, string dir, DeviceSettings settings)
    {
        var config = CommerceMMConfig.Preset(preset);
        config = config with { TaskWeights = ParseWeights(weights, config.TaskWeights) };
        var result = StepDump.Write(config, options, dir, settings);
        Console.WriteLine($"step {result.Step}, allocation {result.Allocation}, {options.Rows} rows, {settings.Device} {settings.Precision.ToString().ToLowerInvariant()} -> {dir}");
        foreach (var t in result.Tasks)
            Console.WriteLine($"  {t.Task,-9} {StepDumpJson.Status(t.Status),-8} loss {t.Loss,10:F6}  weight {t.Weight:G4}");
        Console.WriteLine($"  pass 1 {result.Pass1Total:F6}  pass 2 {result.Pass2Total:F6}  grad norm {result.GradNorm:F6}");
    }

    private static void DumpScale(string preset, string weights, string? modalities, string presence, StepDumpOptions options, string dir, DeviceSettings settings)
    {
        if (preset.Trim().ToLowerInvariant() != "tiny") throw new ConfigException("--preset", $"SCALE has only the tiny preset, got '{preset}'");
        var config = ScaleConfig.Tiny();
        config = config with { TaskWeights = ParseWeights(weights, config.TaskWeights) };
        if (modalities is not null)
        {
            try { config = config with { Modalities = modalities.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ScaleModalities.Parse).ToList() }; }
            catch (ArgumentException e) { throw new ConfigException("--modalities", e.Message); }
        }
        bool[,] rows = presence.Trim().ToLowerInvariant() switch
        {
            "mixed" => ScaleSyntheticBatch.MixedPresence(options.Rows, config.Modalities),
            "all" => ScaleSyntheticBatch.AllPresent(options.Rows),
            _ => throw new ConfigException("--presence", $"'{presence}' is neither mixed nor all"),
        };
        var result = ScaleStepDump.Write(config.Validate(), options, dir, rows, settings);
        Console.WriteLine($"SCALE step {result.Step}, modalities {string.Join(",", config.Modalities.Select(m => m.Name()))}, {options.Rows} rows ({presence}), {settings.Device} {settings.Precision.ToString().ToLowerInvariant()} -> {dir}");
        foreach (var t in result.Tasks)
            Console.WriteLine($"  {t.Task,-18} {StepDumpJson.Status(t.Status),-8} loss {t.Loss,10:F6}  weight {t.Weight:G4}");
        foreach (var w in result.Weights)
            Console.WriteLine($"  harmonized {w.Modality.Name(),-7} {StepDumpJson.Status(w.Status),-8} mean {w.Mean,10:F6}");
        Console.WriteLine($"  total {result.Total:F6}  grad norm {result.GradNorm:F6}");
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
