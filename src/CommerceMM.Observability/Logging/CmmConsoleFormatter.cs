using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace CommerceMM.Observability.Logging;

/// <summary>
/// Console formatter that stamps job, rank and generation (from <see cref="LogIdentity"/>) on every
/// line, as JSON (<c>{"timestamp":…,"level":…,"job":…,"rank":…,"generation":…,"category":…,"message":…}</c>
/// plus the message's named values) or as text.
/// </summary>
/// <remarks>
/// An enricher in the formatter rather than a logging scope: a scope only covers the code that began
/// it, and training logs come from many threads (loader, saver, heartbeat) that would each have to.
/// </remarks>
public sealed class CmmConsoleFormatter : ConsoleFormatter
{
    /// <summary>The name to put in <see cref="ConsoleLoggerOptions.FormatterName"/>.</summary>
    public const string FormatterName = "cmm";

    private readonly LogIdentity identity;
    private readonly IOptionsMonitor<CmmConsoleFormatterOptions> options;

    public CmmConsoleFormatter(LogIdentity identity, IOptionsMonitor<CmmConsoleFormatterOptions> options)
        : base(FormatterName)
    {
        this.identity = identity;
        this.options = options;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        if (OrleansWatchdogStartupRace.IsFalseReport(logEntry.Category, logEntry.State)) return;
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? logEntry.State?.ToString() ?? string.Empty;
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null) return;
        var current = options.CurrentValue;
        var now = current.UseUtcTimestamp ? DateTimeOffset.UtcNow : DateTimeOffset.Now;
        var who = identity.Current;
        if (current.Json)
        {
            WriteJson(textWriter, logEntry.LogLevel, logEntry.Category, message, logEntry.Exception, logEntry.State, who, now);
        }
        else
        {
            WriteText(textWriter, logEntry.LogLevel, logEntry.Category, message, logEntry.Exception, who, now);
        }
    }

    private static void WriteText(TextWriter writer, LogLevel level, string category, string message,
        Exception? exception, LogIdentity.Snapshot who, DateTimeOffset now)
    {
        var line = new StringBuilder(128)
            .Append(now.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture))
            .Append(' ').Append(LevelName(level))
            .Append(" [").Append(who.Job)
            .Append(" rank=").Append(who.Rank?.ToString(CultureInfo.InvariantCulture) ?? "-")
            .Append(" gen=").Append(who.Generation?.ToString(CultureInfo.InvariantCulture) ?? "-")
            .Append("] ").Append(category).Append(": ").Append(message);
        if (exception is not null) line.Append('\n').Append(exception);
        writer.Write(line.Append('\n').ToString());
    }

    private static void WriteJson<TState>(TextWriter writer, LogLevel level, string category, string message,
        Exception? exception, TState state, LogIdentity.Snapshot who, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", now);
            json.WriteString("level", LevelName(level));
            json.WriteString("job", who.Job);
            if (who.Rank is { } rank) json.WriteNumber("rank", rank); else json.WriteNull("rank");
            if (who.Generation is { } generation) json.WriteNumber("generation", generation); else json.WriteNull("generation");
            json.WriteString("category", category);
            json.WriteString("message", message);
            if (exception is not null) json.WriteString("exception", exception.ToString());
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    // The template is noise once rendered, and our own fields must not be overwritten.
                    if (key is "{OriginalFormat}" or "timestamp" or "level" or "job" or "rank" or "generation" or "category" or "message" or "exception") continue;
                    json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                }
            }
            json.WriteEndObject();
        }
        writer.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        writer.Write('\n');
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };
}
