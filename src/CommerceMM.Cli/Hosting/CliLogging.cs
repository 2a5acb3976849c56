using CommerceMM.Observability.Logging;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Hosting;

/// <summary>One console logging setup for every command: job, rank and generation on every line; JSON on request.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(LogIdentity identity, bool json) => LoggerFactory.Create(b => Configure(b, identity, json));

    /// <summary>For hosts that own their logging builder (the coordinator's web app).</summary>
    /// <remarks>
    /// Polly at Warning: Orleans' grain placement runs a resilience pipeline whose telemetry logs every attempt at
    /// Information (four lines per placement); a retry after a fault is a Warning and still shows.
    /// </remarks>
    public static void Configure(ILoggingBuilder builder, LogIdentity identity, bool json) =>
        builder.ClearProviders().AddCmmConsole(identity, json).SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning).AddFilter("System", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning);
}
