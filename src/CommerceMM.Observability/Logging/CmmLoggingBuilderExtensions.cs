using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Observability.Logging;

/// <summary>Console logging with job, rank and generation on every line.</summary>
public static class CmmLoggingBuilderExtensions
{
    /// <summary>
    /// Adds the console logger with <see cref="CmmConsoleFormatter"/>: JSON lines when
    /// <paramref name="json"/>, readable text otherwise. <paramref name="identity"/> is registered as a
    /// singleton; update it on rejoin with <see cref="LogIdentity.Set"/>.
    /// </summary>
    public static ILoggingBuilder AddCmmConsole(this ILoggingBuilder builder, LogIdentity identity, bool json)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(identity);
        builder.Services.TryAddSingleton(identity);
        builder.AddConsole(o => o.FormatterName = CmmConsoleFormatter.FormatterName);
        builder.AddConsoleFormatter<CmmConsoleFormatter, CmmConsoleFormatterOptions>(o =>
        {
            o.Json = json;
            o.UseUtcTimestamp = true;
        });
        return builder;
    }
}
