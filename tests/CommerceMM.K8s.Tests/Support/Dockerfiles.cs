using System.Text.RegularExpressions;

namespace CommerceMM.K8s.Tests.Support;

/// <summary>The Dockerfiles in k8s/images read as Docker reads them (no Docker engine runs here).</summary>
internal static partial class Dockerfiles
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(Kustomize.RepoRoot, "k8s", "images", name));

    /// <summary>Instructions with their continuation lines joined and comments dropped.</summary>
    public static IReadOnlyList<string> Instructions(string name) =>
        Continuation().Replace(string.Join('\n', Read(name).Split('\n').Where(l => !l.TrimStart().StartsWith('#'))), " ")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>The RUN instruction that publishes cmm (exactly one per image).</summary>
    public static string PublishInstruction(string name) =>
        Assert.Single(Instructions(name), i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains("dotnet publish src/CommerceMM.Cli/", StringComparison.Ordinal));

    /// <summary>A -p:NAME=VALUE property the image's publish passes; fails when it passes none.</summary>
    public static string PublishProperty(string name, string property)
    {
        var match = Regex.Match(PublishInstruction(name), $@"(?:-p|/p|--property):{Regex.Escape(property)}=(\S+)");
        Assert.True(match.Success, $"{name} publishes cmm without -p:{property}=...");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"\\\n")]
    private static partial Regex Continuation();
}
