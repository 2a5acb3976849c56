using System.Text.Json;
using CommerceMM.Observability.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CommerceMM.Observability.Tests.Logging;

public sealed class CmmConsoleFormatterTests
{
    private static string Format(LogIdentity identity, bool json, string template, params object[] args) =>
        FormatAs("CommerceMM.Worker.Trainer", identity, json, template, args);

    private static string FormatAs(string category, LogIdentity identity, bool json, string template, params object[] args)
    {
        var options = new CmmConsoleFormatterOptions { Json = json, UseUtcTimestamp = true };
        var formatter = new CmmConsoleFormatter(identity, new StaticOptions(options));
        var state = new FormattedState(template, args);
        var entry = new LogEntry<FormattedState>(LogLevel.Warning, category, new EventId(7), state, null, (s, _) => s.ToString());
        using var writer = new StringWriter();
        formatter.Write(entry, null, writer);
        return writer.ToString();
    }

    [Fact]
    public void Write_Json_IsOneObjectPerLineWithJobRankGenerationAndNamedValues()
    {
        var identity = new LogIdentity("fashion-tiny", rank: 3, generation: 2);

        var line = Format(identity, json: true, "Step {Step} took {Seconds} s", 120, 0.5);

        Assert.EndsWith("\n", line, StringComparison.Ordinal);
        Assert.Single(line.TrimEnd('\n').Split('\n'));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("fashion-tiny", root.GetProperty("job").GetString());
        Assert.Equal(3, root.GetProperty("rank").GetInt32());
        Assert.Equal(2, root.GetProperty("generation").GetInt64());
        Assert.Equal("warn", root.GetProperty("level").GetString());
        Assert.Equal("Step 120 took 0.5 s", root.GetProperty("message").GetString());
        Assert.Equal("120", root.GetProperty("Step").GetString());
        Assert.False(root.TryGetProperty("{OriginalFormat}", out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Write_OrleansWatchdogStallLongerThanTheProcessHasLived_IsDropped_ARealOneIsKept(bool json)
    {
        const string watchdog = "Orleans.Runtime.Watchdog";
        const string template = "Participant check thread has not completed for {TimeSinceLastTick}, potentially indicating lock contention or deadlock";
        var identity = new LogIdentity("job");

        Assert.Empty(FormatAs(watchdog, identity, json, template, TimeSpan.FromHours(16.5))); // measured from timestamp 0: the uptime
        Assert.Contains("00:00:00.0010000", FormatAs(watchdog, identity, json, template, TimeSpan.FromMilliseconds(1)), StringComparison.Ordinal);
        Assert.Contains("16:30:00", FormatAs("Other.Category", identity, json, template, TimeSpan.FromHours(16.5)), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_AfterRejoin_CarriesTheNewRankAndGeneration()
    {
        var identity = new LogIdentity("job");
        using (var before = JsonDocument.Parse(Format(identity, json: true, "joining")))
        {
            Assert.Equal(JsonValueKind.Null, before.RootElement.GetProperty("rank").ValueKind);
        }

        identity.Set(rank: 1, generation: 5);

        using var after = JsonDocument.Parse(Format(identity, json: true, "rejoined"));
        Assert.Equal(1, after.RootElement.GetProperty("rank").GetInt32());
        Assert.Equal(5, after.RootElement.GetProperty("generation").GetInt64());
    }

    [Fact]
    public void Write_Text_ShowsJobRankAndGeneration()
    {
        var line = Format(new LogIdentity("job-a", 0, 4), json: false, "hello {Name}", "x");

        Assert.Contains(" warn [job-a rank=0 gen=4] CommerceMM.Worker.Trainer: hello x\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_JsonMessageWithQuotesAndNewlines_StaysOneValidLine()
    {
        var line = Format(new LogIdentity("j", 0, 0), json: true, "bad text {Text}", "say \"hi\"\nbye");

        Assert.Single(line.TrimEnd('\n').Split('\n'));
        using var doc = JsonDocument.Parse(line);
        Assert.Equal("bad text say \"hi\"\nbye", doc.RootElement.GetProperty("message").GetString());
    }

    /// <summary>Structured state like LoggerMessage's: named values plus {OriginalFormat}.</summary>
    private sealed class FormattedState(string template, object[] args) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly LogValuesFormatterLike formatter = new(template, args);

        public int Count => formatter.Values.Count;
        public KeyValuePair<string, object?> this[int index] => formatter.Values[index];
        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => formatter.Values.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        public override string ToString() => formatter.Message;
    }

    /// <summary>Fills "{Name}" holes in order, as the logging library does.</summary>
    private sealed class LogValuesFormatterLike
    {
        public LogValuesFormatterLike(string template, object[] args)
        {
            var names = System.Text.RegularExpressions.Regex.Matches(template, @"\{(\w+)\}").Select(m => m.Groups[1].Value).ToList();
            var message = template;
            for (var i = 0; i < names.Count; i++)
            {
                message = message.Replace("{" + names[i] + "}", Convert.ToString(args[i], System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            }
            Message = message;
            Values = [.. names.Select((n, i) => new KeyValuePair<string, object?>(n, args[i])), new("{OriginalFormat}", template)];
        }

        public string Message { get; }
        public List<KeyValuePair<string, object?>> Values { get; }
    }

    private sealed class StaticOptions(CmmConsoleFormatterOptions value) : IOptionsMonitor<CmmConsoleFormatterOptions>
    {
        public CmmConsoleFormatterOptions CurrentValue => value;
        public CmmConsoleFormatterOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<CmmConsoleFormatterOptions, string?> listener) => null;
    }
}
