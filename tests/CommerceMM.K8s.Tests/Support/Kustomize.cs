using System.Collections.Concurrent;
using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace CommerceMM.K8s.Tests.Support;

/// <summary>Renders an overlay with the real `kubectl kustomize`, once per overlay per test run.</summary>
internal static class Kustomize
{
    private static readonly ConcurrentDictionary<string, Lazy<Manifests>> Rendered = new();

    public static string RepoRoot { get; } = FindRepoRoot();

    public static Manifests Render(string overlay) =>
        Rendered.GetOrAdd(overlay, o => new Lazy<Manifests>(() => Manifests.Parse(RunKubectl(Path.Combine(RepoRoot, "k8s", "overlays", o))))).Value;

    private static string RunKubectl(string directory)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // xunit 2 has no runtime skip: fail with the fix instead of passing silently.
            Assert.Fail($"kubectl is not on PATH ({e.Message}); these tests render k8s/ with `kubectl kustomize`. " +
                        "Install Debian's kubernetes-client (tools/bootstrap does) and run them again.");
            throw;
        }
        using (process)
        {
            // Read both streams concurrently: a full stderr pipe would otherwise block kubectl.
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory} failed ({process.ExitCode}): {stderr.Result}");
            return stdout;
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no CommerceMM.Distributed.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>The documents of one rendered overlay.</summary>
internal sealed class Manifests(IReadOnlyList<YamlMappingNode> documents)
{
    public IReadOnlyList<YamlMappingNode> All { get; } = documents;

    public static Manifests Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new Manifests(stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList());
    }

    public IEnumerable<YamlMappingNode> OfKind(string kind) => All.Where(d => d.Str("kind") == kind);

    public YamlMappingNode Single(string kind, string name) =>
        OfKind(kind).SingleOrDefault(d => d.Path("metadata").Str("name") == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind} named {name} in the rendered manifests (found: {string.Join(", ", All.Select(d => $"{d.Str("kind")}/{d.Path("metadata").Str("name")}"))})");

    public YamlMappingNode Coordinator => Single("Deployment", "cmm-coordinator");
    public YamlMappingNode Workers => Single("Job", "cmm-workers");

    /// <summary>Every pod template (Deployment and Job) with the workload that owns it.</summary>
    public IEnumerable<(YamlMappingNode Workload, YamlMappingNode Template)> PodTemplates =>
        All.Where(d => d.Str("kind") is "Deployment" or "Job").Select(d => (d, d.Path("spec", "template")));
}
