using System.CommandLine;
using CommerceMM.Collectives;
using CommerceMM.Coordinator.Client;
using CommerceMM.Model.Config;
using CommerceMM.Tensors;

namespace CommerceMM.Cli.Commands;

/// <summary>Options several commands share, defined once so names and help cannot drift.</summary>
internal static class CommonOptions
{
    public static Option<Uri> Coordinator() => new("--coordinator")
    {
        Description = "coordinator HTTP base URL (env CMM_COORDINATOR)",
        // A parse error goes through AddError: thrown from a custom parser it escapes System.CommandLine as a crash with a stack trace.
        CustomParser = r =>
        {
            if (Uri.TryCreate(r.Tokens.Single().Value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
            r.AddError($"--coordinator '{r.Tokens.Single().Value}' is not an http(s) URL, e.g. http://127.0.0.1:7070");
            return null;
        },
        DefaultValueFactory = _ => new Uri(Environment.GetEnvironmentVariable("CMM_COORDINATOR") ?? "http://127.0.0.1:7070"),
    };

    /// <summary>Where a worker reaches the job's grains: the coordinator silos' Orleans gateways.</summary>
    public static Option<IReadOnlyList<string>> Gateways() => new("--gateways")
    {
        Description = $"coordinator gateways, host:port[,host:port...] (env CMM_COORDINATOR_GATEWAYS; default 127.0.0.1:{CoordinatorClientOptions.DefaultGatewayPort})",
        CustomParser = r =>
        {
            try { return CoordinatorClientOptions.ParseGateways(r.Tokens.Single().Value); }
            catch (ArgumentException e) { r.AddError($"--gateways: {e.Message}"); return null; }
        },
        DefaultValueFactory = _ => CoordinatorClientOptions.ParseGateways(
            Environment.GetEnvironmentVariable("CMM_COORDINATOR_GATEWAYS") ?? $"127.0.0.1:{CoordinatorClientOptions.DefaultGatewayPort}"),
    };

    /// <summary>--preset: a CommerceMM model preset; any other name is a parse error listing the three.</summary>
    public static Option<string> Preset(string defaultPreset = "tiny", string description = "model preset: tiny, small or base")
    {
        var preset = new Option<string>("--preset") { Description = description, DefaultValueFactory = _ => defaultPreset };
        preset.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } name && !CommerceMMConfig.PresetNames.Contains(name))
                r.AddError($"--preset: unknown preset '{name}'; use {string.Join(", ", CommerceMMConfig.PresetNames)}");
        });
        return preset;
    }

    public static Option<string> Job() => new("--job")
    {
        Description = "job name (env CMM_JOB_NAME)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_JOB_NAME") ?? "fashion-tiny",
    };

    public static Option<string?> TokenFile() => new("--token-file") { Description = "file holding the job token (otherwise env CMM_JOB_TOKEN)" };

    public static Option<bool> JsonLogs() => new("--log-json") { Description = "structured JSON log lines (env CMM_LOG_JSON=1)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CMM_LOG_JSON") == "1" };

    /// <summary>
    /// The checkout holding a bench's PyTorch peer script. By default the one this cmm was built in, so a bench runs from
    /// any folder; otherwise the current folder.
    /// </summary>
    public static Option<DirectoryInfo> Repo(string peerScript) => new("--repo")
    {
        Description = $"repository root, for {peerScript}",
        DefaultValueFactory = _ => BuiltFrom() ?? new DirectoryInfo(Directory.GetCurrentDirectory()),
    };

    private static DirectoryInfo? BuiltFrom()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir;
        return null;
    }

    /// <summary>The peer script's path, checked before any work: a bench that finds it missing at the end would waste its run.</summary>
    public static string PeerScript(DirectoryInfo repo, string peerScript)
    {
        string path = Path.Combine(repo.FullName, peerScript);
        if (!File.Exists(path)) throw new ArgumentException($"--repo '{repo.FullName}': no {peerScript} there; pass the root of a CommerceMM.Distributed checkout");
        Bench.PyTorchBaseline.RequirePython();
        return path;
    }

    public static Option<string> Device() => new("--device")
    {
        Description = "where the tensors live: cpu, cuda (the first GPU) or cuda:N",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string> Precision() => new("--precision")
    {
        Description = "fp32, or bf16 (bf16 compute, fp32 master weights and loss reductions)",
        DefaultValueFactory = _ => "fp32",
    };

    /// <summary>Counts each option must have at least <paramref name="least"/> of; the first short of it is an error naming it (exit 2, one line).</summary>
    public static void RequireAtLeast(int least, params (string Option, int? Value)[] values)
    {
        foreach (var (option, value) in values)
            if (value < least) throw new ArgumentException($"{option} must be at least {least}, got {value}");
    }

    /// <summary>--device and --precision, checked against this machine; a misspelling is an error naming the option.</summary>
    public static DeviceSettings Resolve(string device, string precision) => MachineDevices.Resolve(device, precision, "--device", "--precision");

    public static Option<bool> ResetCoordinatorState() => new("--reset-coordinator-state")
    {
        Description = "for a coordinator state file that cannot be read: move the job's coordinator state (JOB/coordinator/*.json) aside and begin it afresh; " +
                      "the checkpoints stay, and the workers resume from the newest verified one",
    };

    public static Option<string[]> Set() => new("--set")
    {
        Description = "override a spec key, e.g. --set data.batch_size=64 (repeatable)",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };
}
