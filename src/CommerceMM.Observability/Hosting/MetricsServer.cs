using System.Net;
using CommerceMM.Observability.Collection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Observability.Hosting;

/// <summary>
/// A minimal Kestrel host serving only <c>/metrics</c>, for processes that are not web apps
/// themselves (a worker). The coordinator maps the endpoint into its own app instead.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private MetricsServer(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    /// <summary>Base address actually bound (the real port when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>The scrape URL.</summary>
    public Uri MetricsUri => new(Address, "/metrics");

    /// <summary>Starts serving <paramref name="pipeline"/> on <paramref name="address"/>:<paramref name="port"/> (0 = any free port).</summary>
    public static async Task<MetricsServer> StartAsync(
        MetricsPipeline pipeline, IPAddress address, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(address);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        // The host's own request logs would drown the worker's; warnings still get through.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Registered as an instance: the caller owns the pipeline and its lifetime.
        builder.Services.AddSingleton(pipeline);
        var app = builder.Build();
        app.MapPrometheusMetrics();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        return new MetricsServer(app, new Uri(bound));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
