using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// Bad numbers in our words. System.CommandLine's own message names the .NET type ("as expected type
/// 'System.Nullable`1[System.Int32]'"); every numeric option without a parser of its own gets one that says
/// "--workers: 'abc' is not a whole number".
/// </summary>
internal static class NumberOptions
{
    /// <summary>Gives every numeric option under <paramref name="command"/> (its subcommands too) the plain-worded parser.</summary>
    public static void ExplainBadNumbers(Command command)
    {
        foreach (Option option in command.Options)
        {
            switch (option)
            {
                case Option<int> o when o.CustomParser is null: o.CustomParser = r => (int)(WholeNumber(r, o.Name, int.MinValue, int.MaxValue) ?? 0); break;
                case Option<int?> o when o.CustomParser is null: o.CustomParser = r => (int?)WholeNumber(r, o.Name, int.MinValue, int.MaxValue); break;
                case Option<long> o when o.CustomParser is null: o.CustomParser = r => WholeNumber(r, o.Name, long.MinValue, long.MaxValue) ?? 0; break;
                case Option<long?> o when o.CustomParser is null: o.CustomParser = r => WholeNumber(r, o.Name, long.MinValue, long.MaxValue); break;
                case Option<double> o when o.CustomParser is null: o.CustomParser = r => Number(r, o.Name) ?? 0; break;
                case Option<double?> o when o.CustomParser is null: o.CustomParser = r => Number(r, o.Name); break;
            }
        }
        foreach (Command sub in command.Subcommands) ExplainBadNumbers(sub);
    }

    /// <summary>
    /// Refuses a negative value of <paramref name="option"/> as "OPTION VALUE <paramref name="why"/>". It reads the token, not
    /// the value: a token that is no number already has the parser's error, and reading its value would throw.
    /// </summary>
    public static void RefuseNegative(Option option, string why) => option.Validators.Add(r =>
    {
        if (r.Tokens is [{ Value: var text }] && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) && value < 0)
            r.AddError($"{option.Name} {text} {why}");
    });

    /// <returns>the value, or null with the error added to <paramref name="result"/></returns>
    private static long? WholeNumber(ArgumentResult result, string name, long min, long max)
    {
        string text = result.Tokens.Single().Value;
        bool whole = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value);
        if (whole && value >= min && value <= max) return value;
        result.AddError(whole ? $"{name}: {text} is out of range ({min}..{max})" : $"{name}: '{text}' is not a whole number");
        return null;
    }

    /// <returns>the value, or null with the error added to <paramref name="result"/></returns>
    private static double? Number(ArgumentResult result, string name)
    {
        string text = result.Tokens.Single().Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        result.AddError($"{name}: '{text}' is not a number");
        return null;
    }
}
