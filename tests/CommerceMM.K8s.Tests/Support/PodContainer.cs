using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace CommerceMM.K8s.Tests.Support;

/// <summary>One container of a rendered pod template, with the env and args as the kubelet would resolve them.</summary>
internal sealed partial class PodContainer(YamlMappingNode workload, YamlMappingNode template, YamlMappingNode node, bool init)
{
    public YamlMappingNode Workload { get; } = workload;
    public YamlMappingNode Template { get; } = template;
    public YamlMappingNode Node { get; } = node;
    public bool IsInit { get; } = init;
    public string Name => Node.Str("name") ?? "?";
    public string Where => $"{Workload.Str("kind")}/{Workload.Path("metadata").Str("name")} container '{Name}'";
    public IReadOnlyList<string> Command => Node.Strings("command");
    public IReadOnlyList<string> Args => Node.Strings("args");
    public IReadOnlyList<YamlMappingNode> Env => Node.Seq("env");
    public IEnumerable<string> EnvNames => Env.Select(e => e.Str("name") ?? "");

    /// <summary>Every container of our image (a third-party workload such as the multi-silo overlay's Redis is not ours to check).</summary>
    public static IEnumerable<PodContainer> All(Manifests manifests) => Everything(manifests).Where(c => c.Node.Str("image")?.StartsWith("commercemm/", StringComparison.Ordinal) == true);

    public static IEnumerable<PodContainer> Everything(Manifests manifests) =>
        manifests.PodTemplates.SelectMany(p =>
            p.Template.Path("spec").Seq("initContainers").Select(c => new PodContainer(p.Workload, p.Template, c, init: true))
                .Concat(p.Template.Path("spec").Seq("containers").Select(c => new PodContainer(p.Workload, p.Template, c, init: false))));

    public YamlMappingNode? EnvEntry(string name) => Env.FirstOrDefault(e => e.Str("name") == name);

    /// <summary>A literal env value with $(VAR) references expanded; values from the downward API or Secrets get a stand-in.</summary>
    public string? Value(string name)
    {
        var entry = EnvEntry(name);
        if (entry is null) return null;
        if (entry.Str("value") is { } literal) return Expand(literal);
        var field = entry.Path("valueFrom", "fieldRef").Str("fieldPath");
        return field switch
        {
            "status.podIP" => "10.1.2.3",
            { } f when f.Contains("job-completion-index", StringComparison.Ordinal) => "0",
            _ => $"<{name}>",
        };
    }

    /// <summary>Kubernetes' $(VAR) expansion (only variables defined in the container's env).</summary>
    public string Expand(string text) => VariableReference().Replace(text, m => Value(m.Groups[1].Value) ?? m.Value);

    /// <summary>Names referenced as $(VAR) in the env values and args, i.e. helpers that exist only to be expanded.</summary>
    public IReadOnlySet<string> ReferencedNames() =>
        Env.Select(e => e.Str("value") ?? "").Concat(Args).Concat(Command)
            .SelectMany(t => VariableReference().Matches(t).Select(m => m.Groups[1].Value)).ToHashSet();

    /// <summary>True when the container runs `cmm` (the image's entry point, or named explicitly).</summary>
    public bool RunsCmm => Command.Count == 0 || Command is ["cmm"] || Command.Count == 1 && Command[0].EndsWith("/cmm", StringComparison.Ordinal);

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex VariableReference();
}
