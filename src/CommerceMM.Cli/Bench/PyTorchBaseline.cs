using System.Diagnostics;
using System.Text.Json;

namespace CommerceMM.Cli.Bench;

/// <summary>Runs a benchmark peer script under PyTorch (Debian's, or CMM_PYTHON's: a GPU machine's own) and reads the JSON object on its last line.</summary>
internal static class PyTorchBaseline
{
    public static string Python => Environment.GetEnvironmentVariable("CMM_PYTHON") is { Length: > 0 } configured ? configured : "/usr/bin/python3";

    /// <summary>tools/bench/engine.py: threads, then the shapes as JSON.</summary>
    public static JsonElement Run(string script, int threads, object config) =>
        RunScript(script, threads.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonSerializer.Serialize(config));

    /// <exception cref="ArgumentException">The interpreter is missing; the message says how to get it.</exception>
    public static void RequirePython()
    {
        if (!File.Exists(Python)) throw new ArgumentException($"{Python} is missing; PyTorch is the reference (tools/bootstrap installs python3-torch; CMM_PYTHON names another interpreter)");
    }

    /// <param name="script">a path from <see cref="Commands.CommonOptions.PeerScript"/>, checked before the bench began</param>
    public static JsonElement RunScript(string script, params string[] args)
    {
        var info = new ProcessStartInfo(Python) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }
}
