using System.CommandLine;
using System.CommandLine.Parsing;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// The optional path most commands take first (a job spec, a data set folder). System.CommandLine hands such an argument
/// any token it cannot match, so a mistyped option (`cmm train --worker 3`) would otherwise read as a missing spec file
/// named '--worker'; these arguments reject it as the unknown option it is, with the nearest real one.
/// </summary>
internal static class PathArguments
{
    private const string EmbeddedSpec = "job spec YAML (default: the embedded fashion-tiny job)";

    /// <summary>The job spec path; null selects the embedded fashion-tiny job.</summary>
    public static Argument<string?> JobSpec(string description = EmbeddedSpec) =>
        RejectingOptions(new Argument<string?>("spec") { Description = description, DefaultValueFactory = _ => null });

    /// <summary>Adds the unknown-option check to <paramref name="argument"/>.</summary>
    public static Argument<T> RejectingOptions<T>(Argument<T> argument)
    {
        argument.Validators.Add(result =>
        {
            if (result.Tokens is [{ Value: ['-', ..] value }, ..] && result.Parent is CommandResult command)
                result.AddError(UnknownOption(value, command));
        });
        return argument;
    }

    /// <summary>How every unknown-option error begins.</summary>
    public const string UnknownOptionPrefix = "unknown option '";

    private static string UnknownOption(string value, CommandResult command)
    {
        string path = CommandPath(command);
        var names = command.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal));
        string? nearest = NearestName.Find(value, names, maxEdits: Math.Max(2, value.Length / 3));
        string hint = nearest is null ? "" : $" (did you mean {nearest}?)";
        return $"{UnknownOptionPrefix}{value}' for `{path}`{hint}; `{path} --help` lists its options (a path that starts with '-' needs ./ in front)";
    }

    /// <summary>"cmm data inspect": the command line up to <paramref name="command"/>.</summary>
    public static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (CommandResult? r = command; r is not null; r = r.Parent as CommandResult)
            names.Insert(0, r.Command is RootCommand ? "cmm" : r.Command.Name);
        return string.Join(' ', names);
    }
}
