using System.CommandLine;
using System.CommandLine.Parsing;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// A command line with mistakes in a command that runs something: the mistakes alone, one line each, and where its options
/// are listed. System.CommandLine's own report adds the whole help page, which pushed the one line that mattered off the
/// screen. A command group without its subcommand (`cmm`, `cmm checkpoints`) keeps that report: there the help is the answer.
/// </summary>
internal static class ParseErrors
{
    /// <summary>System.CommandLine's exit code for a command line it could not parse.</summary>
    public const int ExitCode = 1;

    /// <summary>True when <paramref name="parsed"/> had errors and they were written to <paramref name="error"/>.</summary>
    public static bool Report(ParseResult parsed, TextWriter error)
    {
        if (parsed.Errors.Count == 0 || parsed.CommandResult.Command.Subcommands.Count > 0) return false;
        var errors = parsed.Errors.AsEnumerable();
        // An unknown option's value reads as a stray token of the command too: one mistake, one line.
        if (errors.Any(e => e.Message.StartsWith(PathArguments.UnknownOptionPrefix, StringComparison.Ordinal)))
            errors = errors.Where(e => e.SymbolResult is OptionResult or ArgumentResult);
        var messages = errors.Select(e => e.Message).Distinct().ToList();
        foreach (string message in messages) error.WriteLine($"cmm: {message}");
        string path = PathArguments.CommandPath(parsed.CommandResult);
        if (!messages.Any(m => m.Contains("--help", StringComparison.Ordinal))) error.WriteLine($"cmm: `{path} --help` lists its options");
        return true;
    }
}
