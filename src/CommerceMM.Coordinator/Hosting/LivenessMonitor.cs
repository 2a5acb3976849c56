using CommerceMM.Coordinator.Entities;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>
/// Sweeps membership on a timer so a dead rank is noticed even when no other request arrives (e.g. every worker hung).
/// Every request sweeps too; the timer only bounds how late an eviction can be.
/// </summary>
internal sealed partial class LivenessMonitor(EntityDirectory directory, CoordinatorOptions options, ILogger<LivenessMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Liveness.SweepInterval == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Liveness.SweepInterval, options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                foreach (string job in directory.JobNames)
                {
                    try
                    {
                        directory.TryGet(job, out JobEntities? entities);
                        await entities!.Membership.SweepAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A store outage must not kill the monitor: the next tick (or request) tries again.
                        LogSweepFailed(logger, job, e);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: liveness sweep failed; retrying on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, string job, Exception exception);
}
