using System.Diagnostics;

namespace CommerceMM.Observability.Tests.Support;

/// <summary>Runs a system tool (promtool) to completion and returns its exit code and output.</summary>
internal static class Tool
{
    public const string Promtool = "/usr/bin/promtool";
    public const string Prometheus = "/usr/bin/prometheus";

    public sealed record Result(int ExitCode, string Output);

    /// <summary>Fails with a clear message when the tool is not installed (tools/bootstrap installs it).</summary>
    public static void RequireInstalled(string path) =>
        Assert.True(File.Exists(path), $"{path} is missing; run tools/bootstrap (Debian package 'prometheus').");

    public static async Task<Result> RunAsync(string path, IEnumerable<string> args, string? stdin = null, string? workingDirectory = null)
    {
        RequireInstalled(path);
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {path}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, (await stdout) + (await stderr));
    }
}
