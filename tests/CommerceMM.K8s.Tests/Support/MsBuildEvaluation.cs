using System.Diagnostics;
using System.Text.Json;

namespace CommerceMM.K8s.Tests.Support;

/// <summary>
/// What MSBuild selects for a project under given properties, from the real `dotnet msbuild`: evaluation
/// plus NuGet's CollectPackageReferences target, which is where the TorchBackend check runs. Neither
/// restores, builds nor writes anything, so it needs no network and leaves obj/ as it was.
/// </summary>
internal static class MsBuildEvaluation
{
    /// <summary>The result of one evaluation: the exit code, the output (for messages), and the items by type.</summary>
    public sealed record Result(int ExitCode, string Output, IReadOnlyDictionary<string, IReadOnlyList<string>> Items)
    {
        public IReadOnlyList<string> this[string itemType] => Items.TryGetValue(itemType, out var items) ? items : [];
    }

    public static Result Run(string projectRelativeToRepo, IReadOnlyDictionary<string, string> properties, params string[] itemTypes)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Kustomize.RepoRoot,
        };
        foreach (string arg in new[] { "msbuild", Path.Combine(Kustomize.RepoRoot, projectRelativeToRepo), "-nologo", "-nodeReuse:false", "-t:CollectPackageReferences", $"-getItem:{string.Join(',', itemTypes)}" })
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in properties)
            start.ArgumentList.Add($"-p:{name}={value}");
        // The test host may run inside an MSBuild-started process: its MSBuild variables would point the
        // child at another SDK's MSBuild. No server or node may outlive the test either.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string output = stdout + stderr.Result;
        return new Result(process.ExitCode, output, process.ExitCode == 0 ? ParseItems(stdout, itemTypes) : new Dictionary<string, IReadOnlyList<string>>());
    }

    /// <summary>-getItem prints JSON: {"Items": {"Type": [{"Identity": ...}, ...]}}.</summary>
    private static Dictionary<string, IReadOnlyList<string>> ParseItems(string json, string[] itemTypes)
    {
        using var document = JsonDocument.Parse(json);
        var items = document.RootElement.GetProperty("Items");
        return itemTypes.ToDictionary(
            t => t,
            t => (IReadOnlyList<string>)(items.TryGetProperty(t, out var list) ? list.EnumerateArray().Select(i => i.GetProperty("Identity").GetString()!).ToList() : []));
    }
}
