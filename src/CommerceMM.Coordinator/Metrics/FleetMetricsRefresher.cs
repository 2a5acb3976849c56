using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Metrics;

/// <summary>Refreshes the snapshot-derived fleet metrics on a timer (<see cref="CoordinatorOptions.MetricsRefreshInterval"/>).</summary>
internal sealed partial class FleetMetricsRefresher(
    IGrainFactory grains, FleetMetricsFeed feed, CoordinatorOptions options, ILogger<FleetMetricsRefresher> logger) : BackgroundService
{
    /// <summary>One refresh of the job; also run once at start-up so the first scrape already has figures.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        string job = options.Job.Name;
        try
        {
            await feed.RefreshAsync(JobGrains.For(grains, job), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Metrics must never take the coordinator down: the figures stay as they were until the next tick.
            LogRefreshFailed(logger, job, e);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.MetricsRefreshInterval == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.MetricsRefreshInterval, options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: refreshing fleet metrics failed; retrying on the next tick")]
    private static partial void LogRefreshFailed(ILogger logger, string job, Exception exception);
}
