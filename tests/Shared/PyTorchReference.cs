using System.Diagnostics;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Runs a script under Debian's PyTorch (/usr/bin/python3, torch 1.13.1) and fails clearly when it is
/// absent: parity is a requirement, not an optional extra. Linked into every test project that needs it.
/// </summary>
internal static class PyTorchReference
{
    public const string Python = "/usr/bin/python3";

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir.FullName;
            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <returns>the script's standard output</returns>
    public static string Run(string script, params string[] args)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"this test needs PyTorch as the reference: {Python} is missing (tools/bootstrap installs python3-torch)");
        var info = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(RepoRoot, script));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (stderr.Contains("No module named 'torch'"))
            throw new InvalidOperationException($"this test needs PyTorch as the reference: {Python} cannot import torch (tools/bootstrap installs python3-torch)");
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr}");
        return stdout.Result;
    }
}
