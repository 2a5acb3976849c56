using System.Reflection;

namespace CommerceMM.Worker;

/// <summary>The build that wrote a checkpoint (informational version, with the commit when the build stamps one).</summary>
public static class CodeVersion
{
    public static string Current { get; } =
        typeof(CodeVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";
}
