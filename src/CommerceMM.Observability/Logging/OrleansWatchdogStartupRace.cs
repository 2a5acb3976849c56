using System.Diagnostics;

namespace CommerceMM.Observability.Logging;

/// <summary>
/// Orleans 10.4's silo watchdog starts its platform thread before it stamps when the component check began, so a first
/// platform check that runs before the stamp measures from timestamp 0. It then warns "Participant check thread has not
/// completed for 16:29:14 (the machine's uptime), potentially indicating lock contention or deadlock", seen at about
/// one silo start in four here. A stall longer than this process has lived cannot be real; every other watchdog report
/// is kept.
/// </summary>
internal static class OrleansWatchdogStartupRace
{
    private const string Category = "Orleans.Runtime.Watchdog";
    private const string StallValue = "TimeSinceLastTick";
    private static readonly DateTime ProcessStartUtc = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static bool IsFalseReport<TState>(string category, TState state) =>
        category == Category && state is IReadOnlyList<KeyValuePair<string, object?>> values
        && values.Any(v => v.Key == StallValue && v.Value is TimeSpan stall && stall > DateTime.UtcNow - ProcessStartUtc);
}
