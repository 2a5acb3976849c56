using CommerceMM.Cli.Commands;

namespace CommerceMM.Cli.Tests;

/// <summary>Every command's --preset names the bad preset and the three there are, before any model is built.</summary>
public sealed class PresetOptionTests
{
    [Theory]
    [InlineData("bench model --preset huge")]
    [InlineData("bench checkpoint --preset huge")]
    [InlineData("bench overlap --preset huge")]
    [InlineData("debug dump-step --out x.json --preset huge")]
    public void UnknownPreset_IsAParseErrorNamingTheOptionAndTheChoices(string args)
    {
        var errors = CmmRootCommand.Create().Parse(args.Split(' ')).Errors.Select(e => e.Message);

        Assert.Contains("--preset: unknown preset 'huge'; use tiny, small, base", errors);
    }

    [Fact]
    public void KnownPreset_Parses() => Assert.Empty(CmmRootCommand.Create().Parse(["bench", "model", "--preset", "small"]).Errors);
}
