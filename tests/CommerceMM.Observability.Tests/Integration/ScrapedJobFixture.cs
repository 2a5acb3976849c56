using System.Net;
using CommerceMM.Observability.Hosting;
using CommerceMM.Observability.Tests.Support;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Observability.Tests.Integration;

/// <summary>
/// A worker's recorders served by a real Kestrel /metrics on 127.0.0.1, and a real Prometheus
/// scraping it. Started once for the class: Prometheus takes a second or two to start.
/// </summary>
public sealed class ScrapedJobFixture : IAsyncLifetime
{
    private Recorders? recorders;
    private MetricsServer? server;
    private PrometheusServer? prometheus;

    /// <summary>The step whose values the tests record and expect back.</summary>
    public const long Step = 42;

    internal Recorders Recorders => recorders ?? throw new InvalidOperationException("Not started.");
    internal MetricsServer Server => server ?? throw new InvalidOperationException("Not started.");
    internal PrometheusServer Prometheus => prometheus ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        recorders = new Recorders();
        recorders.RecordEverything(Step);
        server = await MetricsServer.StartAsync(recorders.Pipeline, IPAddress.Loopback, port: 0);
        var target = server.MetricsUri;
        prometheus = await PrometheusServer.StartAsync($"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: cmm-worker
                metrics_path: {target.AbsolutePath}
                static_configs:
                  - targets: ["{target.Authority}"]
                    labels:
                      component: worker
                      cmm_job: integration
            """, readyWithin: TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (prometheus is not null) await prometheus.DisposeAsync();
        if (server is not null) await server.DisposeAsync();
        recorders?.Dispose();
    }
}
