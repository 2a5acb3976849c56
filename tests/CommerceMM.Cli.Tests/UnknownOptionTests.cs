using CommerceMM.Cli.Commands;

namespace CommerceMM.Cli.Tests;

/// <summary>A mistyped option before a command's optional path is named as an unknown option, not read as the path.</summary>
public sealed class UnknownOptionTests
{
    [Theory]
    [InlineData("train --worker 3", "unknown option '--worker' for `cmm train` (did you mean --workers?)")]
    [InlineData("checkpoints list --no-verfy", "unknown option '--no-verfy' for `cmm checkpoints list` (did you mean --no-verify?)")]
    [InlineData("data inspect --exampels 3", "unknown option '--exampels' for `cmm data inspect` (did you mean --examples?)")]
    [InlineData("eval --nonsense", "unknown option '--nonsense' for `cmm eval`; `cmm eval --help` lists its options")]
    public void MistypedOption_IsNamedWithTheNearestRealOne(string args, string expected)
    {
        var errors = CmmRootCommand.Create().Parse(args.Split(' ')).Errors.Select(e => e.Message).ToList();

        Assert.Contains(errors, m => m.StartsWith(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, m => m.Contains("not found", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("train cluster/jobs/fashion-tiny.yaml --workers 3")]
    [InlineData("eval ./-odd-name.yaml")]
    [InlineData("data inspect data/fashion --examples 3")]
    public void RealPathsAndOptions_ParseWithoutErrors(string args) =>
        Assert.Empty(CmmRootCommand.Create().Parse(args.Split(' ')).Errors);

    [Theory]
    [InlineData("coordinator --port 99999", "cmm: unknown option '--port' for `cmm coordinator`; `cmm coordinator --help` lists its options")]
    [InlineData("train --workers abc", "cmm: --workers: 'abc' is not a whole number")]
    public void AMistakeInTheCommandLine_IsReportedAlone_WithoutTheHelpPage(string args, string expected)
    {
        using var cmm = new CmmProcess(args.Split(' '));

        Assert.Equal(ParseErrors.ExitCode, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains(expected, cmm.Output);
        Assert.Contains("--help` lists its options", cmm.Output);
        Assert.DoesNotContain("Unrecognized command or argument", cmm.Output); // the unknown option's value, before
        Assert.DoesNotContain("Description:", cmm.Output);
    }

    [Fact]
    public void ACommandGroupWithoutItsSubcommand_StillShowsItsHelp()
    {
        using var cmm = new CmmProcess(["checkpoints"]);

        Assert.Equal(ParseErrors.ExitCode, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("Description:", cmm.Output);
        Assert.Contains("validate", cmm.Output);
    }
}
