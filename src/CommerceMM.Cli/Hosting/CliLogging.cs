using CommerceMM.Observability.Logging;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Cli.Hosting;

/// <summary>One console logging setup for every command: job, rank and generation on every line; JSON on request.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(LogIdentity identity, bool json) => LoggerFactory.Create(b => Configure(b, identity, json));

    /// <summary>For hosts that own their logging builder (the coordinator's web app).</summary>
    /// <remarks>
    /// Polly at Error: Orleans' grain placement runs a resilience pipeline whose telemetry logs every attempt at
    /// Information (four lines per placement) and each retried attempt at Warning (seen at silo start-up, then retried
    /// with success). A placement that finally fails reaches the caller as an exception, which is logged where it lands.
    /// </remarks>
    public static void Configure(ILoggingBuilder builder, LogIdentity identity, bool json) =>
        builder.ClearProviders().AddCmmConsole(identity, json).SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning).AddFilter("System", LogLevel.Warning).AddFilter("Polly", LogLevel.Error);
}
