using YamlDotNet.RepresentationModel;

namespace CommerceMM.K8s.Tests.Support;

/// <summary>Small readers over YamlDotNet's node model; a missing mapping yields an empty one so checks read as one line.</summary>
internal static class YamlPaths
{
    private static readonly YamlMappingNode Empty = new();

    public static YamlMappingNode Path(this YamlMappingNode node, params string[] keys)
    {
        var current = node;
        foreach (string key in keys)
            current = current.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlMappingNode map ? map : Empty;
        return current;
    }

    public static string? Str(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlScalarNode scalar ? scalar.Value : null;

    public static IReadOnlyList<YamlMappingNode> Seq(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlSequenceNode seq
            ? seq.Children.OfType<YamlMappingNode>().ToList() : [];

    public static IReadOnlyList<string> Strings(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlSequenceNode seq
            ? seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList() : [];

    public static IReadOnlyDictionary<string, string> StringMap(this YamlMappingNode node) =>
        node.Children.Where(kv => kv.Key is YamlScalarNode && kv.Value is YamlScalarNode)
            .ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "");
}
