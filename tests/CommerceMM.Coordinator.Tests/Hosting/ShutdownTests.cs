using System.Collections.Concurrent;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Tests.Hosting;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Dispose_StopsTheSweepAndTheMetricsRefreshBeforeTheSilo_SoNothingWarnsOfASiloShuttingDown()
    {
        // Every job's end disposes its coordinator. Its liveness sweep and metrics refresh tick (here every 5 ms, so that
        // some tick falls in the shutdown) and call grains: when the silo stopped first, those calls failed and the last
        // lines of `cmm train` were Orleans stack traces under a warning.
        string folder = Directory.CreateTempSubdirectory("cmm-shutdown-").FullName;
        var logged = new ConcurrentQueue<string>();
        var host = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            Job = new JobSpec("job-a", Workers: 2),
            Token = "test-token-0123456789abcdef",
            BlobStore = new FileBlobStore(folder),
            Urls = ["http://127.0.0.1:0"],
            SiloPort = FreePorts.Next(),
            GatewayPort = FreePorts.Next(),
            Liveness = new LivenessOptions { SweepInterval = TimeSpan.FromMilliseconds(5) },
            MetricsRefreshInterval = TimeSpan.FromMilliseconds(5),
            MetricsMeterName = $"test-coordinator-{Guid.NewGuid():N}",
        }, logging => logging.ClearProviders().AddProvider(new QueueLogger(logged)));
        await Task.Delay(200);

        await host.DisposeAsync();
        Directory.Delete(folder, recursive: true);

        // Only these: a loaded machine may log other warnings (Orleans' watchdog on a late timer), which are not the point.
        Assert.DoesNotContain(logged, e => e.Contains(" CommerceMM.", StringComparison.Ordinal) || e.Contains("SiloUnavailableException", StringComparison.Ordinal));
    }

    /// <summary>Records every entry at Warning or above, with its category and exception.</summary>
    private sealed class QueueLogger(ConcurrentQueue<string> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Category(entries, categoryName);

        public void Dispose()
        {
        }

        private sealed class Category(ConcurrentQueue<string> entries, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception?.GetType().Name}");
            }
        }
    }
}
