using System.Globalization;
using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace CommerceMM.Worker.Spec;

/// <summary>
/// Checks the YAML tree against <see cref="TrainingSpec"/>'s shape before it is deserialised: unknown keys and values
/// of the wrong type, every one of them, each named by its section.key with the value, where it came from and an
/// example of a good one. Deserialising the whole document at once would stop at the first bad value and report
/// the line of the re-serialised document, which names the wrong key (a --set value has no line of its own).
/// A bad key is removed from the tree, so the rest can still be checked and validated in the same pass.
/// </summary>
internal static class SpecShape
{
    /// <summary>Each scalar goes through the same deserializer as the whole spec, so what passes here also loads.</summary>
    private static readonly IDeserializer Scalars = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();

    private static readonly TrainingSpec Defaults = new();

    public static void Check(YamlMappingNode root, IReadOnlyDictionary<string, ValueSource> sources, SpecErrors errors)
    {
        foreach (var (sectionKey, sectionNode) in root.Children.ToList())
        {
            string section = sectionKey.ToString();
            var sectionProperty = Find(typeof(TrainingSpec), section);
            if (sectionProperty is null)
            {
                errors.Add(section, UnknownKey(section, typeof(TrainingSpec).GetProperties().Select(p => Snake(p.Name))));
                root.Children.Remove(sectionKey);
                continue;
            }
            if (sectionNode is YamlScalarNode { Value: null or "" or "~" or "null" })
            {
                root.Children.Remove(sectionKey); // an empty section keeps its defaults (deserialised, it would be null)
                continue;
            }
            if (sectionNode is not YamlMappingNode keys)
            {
                errors.Add(section, $"must be a mapping of keys (e.g. {section}:\\n  key: value), got {Describe(sectionNode)}");
                root.Children.Remove(sectionKey);
                continue;
            }
            object? sectionDefaults = sectionProperty.GetValue(Defaults);
            foreach (var (keyNode, valueNode) in keys.Children.ToList())
            {
                string key = $"{section}.{keyNode}";
                var property = Find(sectionProperty.PropertyType, keyNode.ToString());
                if (property is null)
                {
                    errors.Add(key, UnknownKey(key, sectionProperty.PropertyType.GetProperties().Select(p => $"{section}.{Snake(p.Name)}")));
                    keys.Children.Remove(keyNode);
                    continue;
                }
                var source = sources.TryGetValue(key, out var s) ? s : ValueSource.File(valueNode.Start.Line, keyNode.ToString());
                var example = property.GetValue(sectionDefaults) is { } d and not System.Collections.IEnumerable ? Format(d) : null;
                if (!CheckValue(valueNode, property.PropertyType, key, source, example, errors)) keys.Children.Remove(keyNode);
            }
        }
    }

    /// <returns>false when the value (or something inside it) is wrong; the problems are in <paramref name="errors"/>.</returns>
    private static bool CheckValue(YamlNode node, Type type, string key, ValueSource source, string? example, SpecErrors errors)
    {
        if (type == typeof(string)) return RequireScalar(node, key, "a single value", errors);
        if (Nullable.GetUnderlyingType(type) is { } inner)
            return node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" } || CheckValue(node, inner, key, source, example, errors);
        if (type.IsPrimitive) return CheckScalar(node, type, key, source, example, errors);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (node is not YamlSequenceNode list)
            {
                errors.Add(key, $"must be a list like [a, b], got {Describe(node)}{source.Describe()}");
                return false;
            }
            bool ok = true;
            for (int i = 0; i < list.Children.Count; i++)
                ok &= CheckValue(list.Children[i], type.GetGenericArguments()[0], $"{key}[{i}]", source.At(list.Children[i]), null, errors);
            return ok;
        }
        if (node is not YamlMappingNode mapping)
        {
            errors.Add(key, $"must be a mapping like {{name: value}}, got {Describe(node)}{source.Describe()}");
            return false;
        }
        bool valid = true;
        bool dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>);
        foreach (var (name, value) in mapping.Children)
        {
            string child = $"{key}.{name}";
            if (dictionary)
            {
                valid &= CheckValue(value, type.GetGenericArguments()[1], child, source.At(value), null, errors);
                continue;
            }
            var property = Find(type, name.ToString());
            if (property is null)
            {
                errors.Add(child, UnknownKey(child, type.GetProperties().Select(p => $"{key}.{Snake(p.Name)}")));
                valid = false;
                continue;
            }
            valid &= CheckValue(value, property.PropertyType, child, source.At(value), null, errors);
        }
        return valid;
    }

    private static bool CheckScalar(YamlNode node, Type type, string key, ValueSource source, string? example, SpecErrors errors)
    {
        if (!RequireScalar(node, key, Expected(type), errors)) return false;
        var scalar = (YamlScalarNode)node;
        var text = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(new YamlScalarNode(scalar.Value) { Style = scalar.Style })).Save(text, assignAnchors: false);
        try
        {
            Scalars.Deserialize(text.ToString(), type);
            return true;
        }
        catch (Exception e) when (e is YamlException or FormatException or OverflowException or InvalidCastException)
        {
            string value = scalar.Value ?? "";
            string problem = IsIntegral(type) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && number == Math.Floor(number)
                ? $"is out of range ({Range(type)})"
                : $"is not {Expected(type)}";
            string fix = example is null ? "" : $"; for example {source.Example(key, example)}";
            errors.Add(key, $"'{value}'{source.Describe()} {problem}{fix}");
            return false;
        }
    }

    private static bool RequireScalar(YamlNode node, string key, string expected, SpecErrors errors)
    {
        if (node is YamlScalarNode) return true;
        errors.Add(key, $"must be {expected}, got {Describe(node)}");
        return false;
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        YamlScalarNode s => $"'{s.Value}'",
        _ => node.NodeType.ToString(),
    };

    private static string Expected(Type type) => type switch
    {
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(ulong) || type == typeof(uint) => "a whole number of 0 or more",
        _ when IsIntegral(type) => "a whole number",
        _ => "a number",
    };

    private static bool IsIntegral(Type type) => type == typeof(int) || type == typeof(long) || type == typeof(ulong) || type == typeof(uint) || type == typeof(short);

    private static string Range(Type type) => type switch
    {
        _ when type == typeof(int) => $"{int.MinValue}..{int.MaxValue}",
        _ when type == typeof(uint) => $"0..{uint.MaxValue}",
        _ when type == typeof(ulong) => $"0..{ulong.MaxValue}",
        _ when type == typeof(short) => $"{short.MinValue}..{short.MaxValue}",
        _ => $"{long.MinValue}..{long.MaxValue}",
    };

    private static string UnknownKey(string key, IEnumerable<string> known)
    {
        var candidates = known.ToList();
        return NearestName.Find(key, candidates, maxEdits: 3) is { } closest
            ? $"unknown key; did you mean {closest}? (see cluster/jobs/fashion-tiny.yaml)"
            : $"unknown key (known here: {string.Join(", ", candidates)}; see cluster/jobs/fashion-tiny.yaml)";
    }

    private static PropertyInfo? Find(Type type, string snakeName) =>
        type.GetProperties().FirstOrDefault(p => Snake(p.Name) == snakeName);

    private static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    internal static string Snake(string name) => UnderscoredNamingConvention.Instance.Apply(name);
}

/// <summary>Where a key's value came from, so that an error can say where to fix it, in that place's own syntax.</summary>
internal abstract record ValueSource
{
    public static ValueSource File(long line, string name) => new FromFile(line, name);

    public static ValueSource Environment(string variable) => new FromEnvironment(variable);

    public static ValueSource Override() => new FromSet();

    /// <summary>" (line 20)", " (from CMM_DATA_BATCH_SIZE)", " (from --set)".</summary>
    public abstract string Describe();

    /// <summary>A good assignment in the same place: "batch_size: 32", "CMM_DATA_BATCH_SIZE=32", "--set data.batch_size=32".</summary>
    public abstract string Example(string key, string value);

    /// <summary>The source of a node inside this value: from the file, its own line; from an override, the override.</summary>
    public virtual ValueSource At(YamlNode node) => this;

    private sealed record FromFile(long Line, string Name) : ValueSource
    {
        public override string Describe() => Line > 0 ? $" (line {Line})" : "";
        public override string Example(string key, string value) => $"{Name}: {value}";
        public override ValueSource At(YamlNode node) => new FromFile(node.Start.Line, Name);
    }

    private sealed record FromEnvironment(string Variable) : ValueSource
    {
        public override string Describe() => $" (from {Variable})";
        public override string Example(string key, string value) => $"{Variable}={value}";
    }

    private sealed record FromSet : ValueSource
    {
        public override string Describe() => " (from --set)";
        public override string Example(string key, string value) => $"--set {key}={value}";
    }
}
