using System.Diagnostics;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// `cmm` on the PATH (tools/install-cmm, run by tools/bootstrap): the README's commands work as written. Installs go
/// to a temporary folder, and the launcher runs the build the tests run (CMM_BIN), so nothing here rebuilds the product.
/// </summary>
public sealed class LauncherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cmm-launcher-").FullName;
    private string Bin => Path.Combine(_dir, "bin");
    private static string Tools => Path.Combine(CmmProcess.RepositoryRoot, "tools");

    [Fact]
    public void Install_IsIdempotent_AndTheInstalledCmmRunsFromAnyFolder()
    {
        var first = Run(Path.Combine(Tools, "install-cmm"), ["--bin-dir", Bin]);
        Assert.True(first.Exit == 0, first.Output);
        Assert.Contains($"installed {Bin}/cmm", first.Output);
        string installed = File.ReadAllText(Path.Combine(Bin, "cmm"));

        var second = Run(Path.Combine(Tools, "install-cmm"), ["--bin-dir", Bin]);
        Assert.True(second.Exit == 0, second.Output);
        Assert.Contains("already runs", second.Output);
        Assert.Equal(installed, File.ReadAllText(Path.Combine(Bin, "cmm")));

        // As the README does it: `cmm …` found on the PATH, from a folder that is not the repository.
        var help = Run("/bin/bash", ["-c", "cmm data --help"], new() { ["PATH"] = $"{Bin}:{Environment.GetEnvironmentVariable("PATH")}", ["CMM_BIN"] = CmmProcess.Bin }, cwd: _dir);
        Assert.True(help.Exit == 0, help.Output);
        Assert.Contains("Build, inspect and share training data sets.", help.Output);
    }

    [Fact]
    public void Install_NeverOverwritesACmmItDidNotWrite()
    {
        Directory.CreateDirectory(Bin);
        File.WriteAllText(Path.Combine(Bin, "cmm"), "#!/bin/sh\necho someone else's cmm\n");
        var result = Run(Path.Combine(Tools, "install-cmm"), ["--bin-dir", Bin]);
        Assert.Equal(1, result.Exit);
        Assert.Contains("was not written by this script; leaving it", result.Output);
        Assert.Equal("#!/bin/sh\necho someone else's cmm\n", File.ReadAllText(Path.Combine(Bin, "cmm")));
    }

    [Fact]
    public void Install_RepointsALauncherOfAnotherClone_AndAMovedCloneIsNamed()
    {
        string other = FakeClone("other");
        Assert.Equal(0, Run(Path.Combine(other, "tools/install-cmm"), ["--bin-dir", Bin]).Exit);
        Directory.Delete(other, recursive: true);
        var gone = Run(Path.Combine(Bin, "cmm"), ["--help"]);
        Assert.Equal(127, gone.Exit);
        Assert.Contains($"cmm: {other}/tools/cmm is gone (clone moved or deleted?): run tools/bootstrap in your clone", gone.Output);

        var repointed = Run(Path.Combine(Tools, "install-cmm"), ["--bin-dir", Bin]);
        Assert.True(repointed.Exit == 0, repointed.Output);
        Assert.Contains($"pointed at another clone; now at {CmmProcess.RepositoryRoot}", repointed.Output);
    }

    [Fact]
    public void Launcher_WithNothingToRunOrBuild_SaysWhatToDo()
    {
        string clone = FakeClone("empty");
        var result = Run(Path.Combine(clone, "tools/cmm"), ["--help"]);
        Assert.Equal(127, result.Exit);
        Assert.Contains($"cmm: no build at {clone}/artifacts/cmm and no project at {clone}/src/CommerceMM.Cli to build it from", result.Output);
    }

    [Fact]
    public void Launcher_WhenTheFirstBuildFails_SaysSoAndExitsNonZero()
    {
        string clone = FakeClone("broken");
        Directory.CreateDirectory(Path.Combine(clone, "src/CommerceMM.Cli"));
        File.WriteAllText(Path.Combine(clone, "src/CommerceMM.Cli/CommerceMM.Cli.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup>");
        var result = Run(Path.Combine(clone, "tools/cmm"), ["--help"]);
        Assert.Equal(1, result.Exit);
        Assert.Contains("cmm: first use: building", result.Output);
        Assert.Contains("cmm: the build failed (errors above)", result.Output);
    }

    /// <summary>A folder with only the two launcher scripts in tools/, as a clone without a build would have.</summary>
    private string FakeClone(string name)
    {
        string clone = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.Combine(clone, "tools"));
        foreach (string script in new[] { "cmm", "install-cmm" })
            File.Copy(Path.Combine(Tools, script), Path.Combine(clone, "tools", script));
        return clone;
    }

    private static (int Exit, string Output) Run(string file, string[] args, Dictionary<string, string>? environment = null, string? cwd = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = cwd ?? "" };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("CMM_BIN"); // tools/test's, naming its publish: a launcher here runs what it is given
        foreach (var (key, value) in environment ?? []) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
