using System.CommandLine;
using System.Text.RegularExpressions;
using CommerceMM.Cli.Commands;
using CommerceMM.Cli.Hosting;
using CommerceMM.Worker.Spec;

namespace CommerceMM.K8s.Tests.Support;

/// <summary>What `cmm` accepts, read from its real System.CommandLine tree and its own constants.</summary>
internal static partial class CmmCli
{
    /// <summary>Parses args exactly as `cmm` would; the result names the command that would run.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) => CmmRootCommand.Create().Parse(args.ToArray());

    /// <summary>"coordinator", "worker", "data build fashion": the command path below the root.</summary>
    public static string PathOf(ParseResult result)
    {
        var names = new List<string>();
        for (var r = result.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            if (r.Command is not RootCommand) names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>
    /// Environment variables the command reads: those its options' help names ("env CMM_X"), the job
    /// token when it takes --token-file, the spec keys when it loads a spec (--set), and the blob
    /// credentials when it opens the job's store (coordinator and worker; no help text names it).
    /// </summary>
    public static IReadOnlySet<string> KnownEnvironment(Command command)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var descriptions = command.Options.Select(o => o.Description).Concat(command.Arguments.Select(a => a.Description)).Append(command.Description);
        foreach (string? description in descriptions)
            foreach (Match m in EnvMention().Matches(description ?? ""))
                names.Add(m.Groups[1].Value);
        if (command.Options.Any(o => o.Name == "--token-file")) names.Add(JobToken.Variable);
        if (command.Options.Any(o => o.Name == "--set"))
            foreach (string key in SpecLoader.SettableKeys) names.Add(SpecLoader.EnvironmentName(key));
        if (command.Name is "coordinator" or "worker") names.Add(BlobStores.AzureConnectionVariable);
        return names;
    }

    [GeneratedRegex(@"\benv (CMM_[A-Z0-9_]+)")]
    private static partial Regex EnvMention();
}
