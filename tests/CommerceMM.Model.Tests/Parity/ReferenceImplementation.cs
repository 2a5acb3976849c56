using System.Diagnostics;
using System.Text.Json;

namespace CommerceMM.Model.Tests.Parity;

/// <summary>
/// Runs tools/reference/commercemm.py (the independent PyTorch implementation) on a step dump under
/// Debian's PyTorch and returns its reference.json. Fails with a clear message when /usr/bin/python3
/// or its torch is missing: parity is a requirement, not an optional extra.
/// </summary>
internal static class ReferenceImplementation
{
    public const string Python = "/usr/bin/python3";
    private const string Script = "tools/reference/commercemm.py";

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir.FullName;
            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    public static JsonDocument Replay(string dumpDirectory)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"the parity test needs PyTorch as the reference: {Python} is missing (tools/bootstrap installs python3-torch)");
        string output = Path.Combine(dumpDirectory, "reference.json");
        var info = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(RepoRoot, Script));
        info.ArgumentList.Add(dumpDirectory);
        info.ArgumentList.Add("--out");
        info.ArgumentList.Add(output);
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (stderr.Contains("No module named 'torch'"))
            throw new InvalidOperationException($"the parity test needs PyTorch as the reference: {Python} cannot import torch (tools/bootstrap installs python3-torch)");
        if (process.ExitCode != 0) throw new InvalidOperationException($"{Script} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr}");
        return JsonDocument.Parse(File.ReadAllText(output));
    }
}
