using System.Collections;
using System.Globalization;
using System.Reflection;
using CommerceMM.Worker.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace CommerceMM.Worker.Spec;

/// <summary>
/// Reads a job spec: YAML, then environment overrides (CMM_DATA_BATCH_SIZE sets data.batch_size;
/// Kubernetes passes config this way), then explicit overrides (--set key=value), then validation.
/// Every error names the key.
/// </summary>
public static class SpecLoader
{
    public const string EnvironmentPrefix = "CMM_";

    /// <exception cref="SpecException">Every problem found (YAML syntax errors stop at the first: nothing after them can be read).</exception>
    public static TrainingSpec Load(string? yaml, IReadOnlyDictionary<string, string>? environment = null, IEnumerable<string>? overrides = null)
    {
        var root = Parse(yaml ?? "");
        var errors = new SpecErrors();
        var sources = new Dictionary<string, ValueSource>();
        foreach (var (key, value) in EnvironmentOverrides(environment ?? CurrentEnvironment()))
            if (TrySet(root, key, value, errors, $"{EnvironmentName(key)}={value}")) sources[key] = ValueSource.Environment(EnvironmentName(key));
        foreach (string assignment in overrides ?? [])
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0)
            {
                errors.Add(assignment, "an override must look like section.key=value, e.g. data.batch_size=64");
                continue;
            }
            string key = assignment[..eq].Trim();
            if (!SettableKeys.Contains(key))
            {
                errors.Add(key, UnknownKey(key));
                continue;
            }
            if (TrySet(root, key, assignment[(eq + 1)..].Trim(), errors, $"--set {assignment}")) sources[key] = ValueSource.Override();
        }
        SpecShape.Check(root, sources, errors);
        return SpecValidator.Validate(Deserialize(root, errors), errors);
    }

    /// <summary>
    /// The key it most likely meant; else, in a known section, that section's keys; else the keys named like its last
    /// word (train.steps: job.max_steps or optimizer.warmup_steps); else the sections. Never all 30-odd keys at once.
    /// </summary>
    private static string UnknownKey(string key)
    {
        if (NearestName.Find(key, SettableKeys, maxEdits: 3) is { } closest) return $"unknown key; did you mean {closest}?";
        int dot = key.LastIndexOf('.');
        string section = dot > 0 ? key[..dot] : "", field = key[(dot + 1)..];
        var inSection = SettableKeys.Where(k => k.StartsWith(section + ".", StringComparison.Ordinal)).Select(k => k[(section.Length + 1)..]).ToList();
        if (inSection.Count > 0) return $"unknown key; {section} has {string.Join(", ", inSection)}";
        var sameWord = SettableKeys.Where(k => field.Length > 0 && (k.EndsWith("." + field, StringComparison.Ordinal) || k.EndsWith("_" + field, StringComparison.Ordinal))).ToList();
        if (sameWord.Count > 0) return $"unknown key; did you mean {string.Join(" or ", sameWord)}?";
        return $"unknown key; keys are section.key, and the sections are {string.Join(", ", SettableKeys.Select(k => k[..k.IndexOf('.')]).Distinct())}";
    }

    public static TrainingSpec LoadFile(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new SpecException("spec", $"file '{path}' not found");
        return Load(File.ReadAllText(path), null, overrides);
    }

    /// <summary>
    /// Every key that --set and the environment can set, as section.key: the scalars (e.g.
    /// "optimizer.warmup_steps") and the lists of names (e.g. "model.modalities=[image, text]").
    /// </summary>
    public static IReadOnlyList<string> SettableKeys { get; } = Keys(t => IsScalar(t) || t == typeof(List<string>));

    private static readonly IReadOnlyList<string> ListKeys = Keys(t => t == typeof(List<string>));

    private static string[] Keys(Func<Type, bool> settable) => typeof(TrainingSpec).GetProperties()
        .SelectMany(section => section.PropertyType.GetProperties()
            .Where(p => settable(p.PropertyType))
            .Select(p => $"{Snake(section.Name)}.{Snake(p.Name)}"))
        .ToArray();

    /// <summary>CMM_SECTION_KEY for a section.key.</summary>
    public static string EnvironmentName(string key) => EnvironmentPrefix + key.Replace('.', '_').ToUpperInvariant();

    /// <summary>
    /// The spec written back as YAML, with the model's unset keys at the values it takes (a key of the other model kind is
    /// left out). Secrets are never in it: they come from the environment.
    /// </summary>
    public static string ToYaml(TrainingSpec spec)
    {
        var resolved = SpecJson.FromJson(SpecJson.ToJson(spec));
        ModelKinds.For(resolved.Model).FillDefaults(resolved.Model);
        return new SerializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance)
            .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull).Build().Serialize(resolved);
    }

    private static IEnumerable<(string Key, string Value)> EnvironmentOverrides(IReadOnlyDictionary<string, string> environment)
    {
        foreach (string key in SettableKeys)
            if (environment.TryGetValue(EnvironmentName(key), out var value)) yield return (key, value);
    }

    private static Dictionary<string, string> CurrentEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Where(e => e.Key is string k && k.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");

    private static YamlMappingNode Parse(string yaml)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0) return new YamlMappingNode();
            return stream.Documents[0].RootNode as YamlMappingNode
                ?? throw new SpecException("spec", "the top level must be a mapping of sections (job, model, data, optimizer, checkpoint)");
        }
        catch (YamlException e)
        {
            throw new SpecException("spec", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner fails this way, with no position, on an unclosed [ that more keys follow ("workers: [1", then "model: {}").
            throw new SpecException("spec", $"not valid YAML: the parser stopped ({e.Message}); look for an unclosed [ or {{", e);
        }
    }

    /// <returns>false when the value cannot be placed (a list key given something that is not a list); the problem is in <paramref name="errors"/>.</returns>
    private static bool TrySet(YamlMappingNode root, string key, string value, SpecErrors errors, string origin)
    {
        string[] parts = key.Split('.');
        YamlNode node;
        try
        {
            node = ListKeys.Contains(key) ? FlowList(key, value.StartsWith('[') ? value : $"[{value}]") : new YamlScalarNode(value);
        }
        catch (SpecException e)
        {
            errors.Add(key, $"{e.Errors[0].Message} (from {origin})");
            return false;
        }
        var section = root.Children.TryGetValue(new YamlScalarNode(parts[0]), out var existing) ? existing as YamlMappingNode : null;
        if (section is null)
        {
            section = new YamlMappingNode();
            root.Children[new YamlScalarNode(parts[0])] = section;
        }
        section.Children[new YamlScalarNode(parts[1])] = node;
        return true;
    }

    /// <summary>A list value given on the command line in YAML's flow style, e.g. model.modalities=[image,text] (brackets optional).</summary>
    private static YamlNode FlowList(string key, string value)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(value));
            return stream.Documents[0].RootNode;
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            throw new SpecException(key, $"'{value}' is not a YAML list like [a, b]: {e.Message}", e);
        }
    }

    /// <summary>The tree, already checked by <see cref="SpecShape"/>, as a spec; a problem the check missed still names its key.</summary>
    private static TrainingSpec Deserialize(YamlMappingNode root, SpecErrors errors)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(text, assignAnchors: false);
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        try
        {
            return deserializer.Deserialize<TrainingSpec?>(text.ToString()) ?? new TrainingSpec();
        }
        catch (YamlException e)
        {
            // Line numbers here are the re-serialised document's: name the key found on that line, never a guess.
            errors.Add(KeyAt(text.ToString(), e.Start.Line), e.InnerException?.Message ?? e.Message);
            errors.ThrowIfAny();
            throw;
        }
    }

    /// <summary>The section.key written on a line of the re-serialised document, or "spec".</summary>
    private static string KeyAt(string document, long line)
    {
        string? section = null, key = null;
        var lines = document.Split('\n');
        for (int i = 0; i < lines.Length && i < line; i++)
        {
            string l = lines[i];
            if (l.Length == 0 || l.TrimStart().StartsWith('#')) continue;
            if (!char.IsWhiteSpace(l[0])) (section, key) = (l.Split(':')[0], null);
            else if (l.StartsWith("  ", StringComparison.Ordinal) && !char.IsWhiteSpace(l[2]) && l[2] != '-') key = l.Trim().Split(':')[0];
        }
        return section is null ? "spec" : key is null ? section : $"{section}.{key}";
    }

    private static bool IsScalar(Type t) => t.IsPrimitive || t == typeof(string) || t == typeof(decimal) || Nullable.GetUnderlyingType(t) is { } u && IsScalar(u);

    private static string Snake(string name) => UnderscoredNamingConvention.Instance.Apply(name);
}
