using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Hosting;

/// <summary>A job spec from a file, or the embedded default (cluster/jobs/fashion-tiny.yaml), plus env and --set overrides.</summary>
internal static class SpecSource
{
    public const string DefaultName = "fashion-tiny.yaml";

    public static TrainingSpec Load(string? file, IEnumerable<string> overrides)
    {
        string yaml = file is null ? EmbeddedDefault() : File.Exists(file) ? File.ReadAllText(file) : throw new SpecException("spec", $"file '{file}' not found");
        return SpecLoader.Load(yaml, null, overrides);
    }

    public static string EmbeddedDefault()
    {
        using var stream = typeof(SpecSource).Assembly.GetManifestResourceStream(DefaultName)
            ?? throw new InvalidOperationException($"the embedded default spec {DefaultName} is missing from this build");
        return new StreamReader(stream).ReadToEnd();
    }
}
