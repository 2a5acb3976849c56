using System.CommandLine;
using CommerceMM.Cli.Commands;

namespace CommerceMM.Cli.Tests;

/// <summary>A bad number for any numeric option is named in our words, never by its .NET type.</summary>
public sealed class NumberOptionTests
{
    public static TheoryData<string, string> NumericOptions()
    {
        var data = new TheoryData<string, string>();
        void Walk(Command command, string path)
        {
            foreach (Option option in command.Options)
            {
                Type t = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
                if (t == typeof(int) || t == typeof(long) || t == typeof(double)) data.Add(path, option.Name);
            }
            foreach (Command sub in command.Subcommands) Walk(sub, $"{path} {sub.Name}".Trim());
        }
        Walk(CmmRootCommand.Create(), "");
        return data;
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void NotANumber_NamesTheOptionAndTheValue(string command, string option)
    {
        var errors = CmmRootCommand.Create().Parse([.. command.Split(' '), option, "abc"]).Errors.Select(e => e.Message).ToList();

        // Options with a parser of their own word it their way (--silo-port: "is not a port 1-65535").
        Assert.Contains(errors, m => m.StartsWith(option, StringComparison.Ordinal) && m.Contains("'abc' is not a", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, m => m.Contains("System.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("bench model --batch 1.5", "--batch: '1.5' is not a whole number")]
    [InlineData("bench model --batch 99999999999", "--batch: 99999999999 is out of range (-2147483648..2147483647)")]
    public void NotAnInt_SaysWhy(string args, string expected) =>
        Assert.Contains(expected, CmmRootCommand.Create().Parse(args.Split(' ')).Errors.Select(e => e.Message));

    [Fact]
    public void GoodNumbers_AndDefaults_Parse()
    {
        Assert.Empty(CmmRootCommand.Create().Parse(["bench", "model", "--batch", "16", "--rounds", "2"]).Errors);
        Assert.Empty(CmmRootCommand.Create().Parse(["train", "--workers", "3"]).Errors);
        Assert.Equal(32, CmmRootCommand.Create().Parse(["bench", "model"]).GetValue<int>("--batch"));
    }
}
