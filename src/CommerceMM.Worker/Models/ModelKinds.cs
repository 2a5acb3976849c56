using CommerceMM.Worker.Spec;

namespace CommerceMM.Worker.Models;

/// <summary>The model kinds this build can train, by <c>model.kind</c>.</summary>
public static class ModelKinds
{
    public const string CommerceMM = "commercemm";
    public const string Scale = "scale";

    private static readonly IReadOnlyList<IModelKind> Known = [new CommerceMMKind(), new ScaleKind()];

    public static IReadOnlyList<string> Names => Known.Select(k => k.Name).ToList();

    /// <exception cref="SpecException">An unknown kind (named, with the known ones).</exception>
    public static IModelKind For(ModelSection model) =>
        Known.FirstOrDefault(k => string.Equals(k.Name, model.Kind, StringComparison.OrdinalIgnoreCase))
        ?? throw new SpecException("model.kind", $"'{model.Kind}' is not a model this build trains (known: {string.Join(", ", Names)})");
}
