using System.Net;
using CommerceMM.Coordinator.Api;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Metrics;
using CommerceMM.Coordinator.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>
/// A running coordinator: an Orleans silo hosting the job's grains, and beside it the HTTP API on Kestrel (rendezvous
/// keys included), in this process. <c>cmm coordinator</c> and the local launcher start one with
/// <see cref="StartAsync"/> and dispose it to stop.
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CoordinatorHost(WebApplication app, IReadOnlyList<Uri> addresses, (int Silo, int Gateway) ports)
    {
        _app = app;
        Addresses = addresses;
        (SiloPort, GatewayPort) = ports;
    }

    /// <summary>The port silos talk to each other on (a free one when 0 was asked for).</summary>
    public int SiloPort { get; }

    /// <summary>The Orleans gateway's port, where workers connect (a free one when 0 was asked for).</summary>
    public int GatewayPort { get; }

    /// <summary>The silo's gateway as a local worker reaches it (<c>host:port</c>, for <c>cmm worker --gateways</c>).</summary>
    public string Gateway => $"127.0.0.1:{GatewayPort}";

    /// <summary>The bound URLs (with real ports when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>A URL a local client can use (a wildcard host is replaced by 127.0.0.1).</summary>
    public Uri BaseAddress => Addresses[0];

    /// <summary>The host's services (tests).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>The grains of <paramref name="job"/>, for in-process callers (tests, the launcher's live view).</summary>
    public JobGrains Grains(string job) => JobGrains.For(_app.Services.GetRequiredService<IGrainFactory>(), job);

    public static async Task<CoordinatorHost> StartAsync(CoordinatorOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        await CoordinatorSilo.CheckReachableAsync(options.Clustering, cancellationToken).ConfigureAwait(false);
        await BlobGrainStorage.CheckReadableAsync(options.BlobStore, options.Job.Name, cancellationToken).ConfigureAwait(false);

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(CoordinatorHost).Assembly.GetName().Name });
        builder.WebHost.UseUrls([.. options.Urls]);
        if (logging is not null)
        {
            logging(builder.Logging);
        }

        // Orleans logs its whole configuration at Information, and warns on every start that the silo runs without
        // server GC (a choice: the coordinator shares the node with workers): operators see Orleans' problems only.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Orleans.Runtime.Silo", LogLevel.Error);

        // The command stops the host on a signal, after its own work (a SIGTERM during the silo's start ends in exit 0).
        builder.Services.AddSingleton<IHostLifetime, CallerOwnedLifetime>();
        (int Silo, int Gateway) ports = CoordinatorSilo.Ports(options);
        PortInUseException.ThrowIfTaken(ports.Gateway, $"the gateway port {ports.Gateway} (--gateway-port)");
        PortInUseException.ThrowIfTaken(ports.Silo, $"the silo port {ports.Silo} (--silo-port)");
        foreach (string url in options.Urls)
        {
            // Before the host starts: Kestrel's own failure comes after the silo began, with two logged stack traces.
            if (PortOf(url) is { } port and > 0) PortInUseException.ThrowIfTaken(port, $"the HTTP address {url} (--urls)", ListenAddressOf(url));
        }
        builder.UseOrleans(silo => CoordinatorSilo.Configure(silo, options, ports));
        // After the silo: hosted services stop in reverse order, so the liveness sweep and the metrics refresh stop before
        // the silo does. Before it, their last ticks called a silo shutting down, and every ending job logged stack traces.
        builder.Services.AddCoordinator(options);
        WebApplication app = builder.Build();
        app.UseCoordinator();
        app.MapCoordinatorApis();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            // Taken since the check above.
            string? url = options.Urls.FirstOrDefault(u => e.Message.Contains(u, StringComparison.Ordinal));
            throw PortInUseException.Taken($"the HTTP address {url ?? string.Join(";", options.Urls)} (--urls)", url is null ? null : PortOf(url), e);
        }

        try
        {
            // Activate the job's grains now: a restarted coordinator's liveness clock starts here (not at the first
            // request), torn commits are resolved, and unreadable state fails the start instead of the first worker.
            JobGrains grains = JobGrains.For(app.Services.GetRequiredService<IGrainFactory>(), options.Job.Name);
            await grains.Membership.SweepAsync(cancellationToken).ConfigureAwait(false);
            await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);

            // The first scrape should find the fleet figures, not wait for the refresh timer.
            await app.Services.GetRequiredService<FleetMetricsRefresher>().RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            // Orleans wraps what a storage provider throws; the unreadable blob's own message is the one to show.
            if (e is OrleansException { InnerException: InvalidDataException unreadable })
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(unreadable);
            }

            throw;
        }

        ICollection<string> bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var addresses = bound.Select(a => new UriBuilder(a) { Host = IsWildcard(new Uri(a).Host) ? "127.0.0.1" : new Uri(a).Host }.Uri).ToList();
        return new CoordinatorHost(app, addresses, ports);
    }

    /// <summary>The scrape URL of the fleet metrics (open, like <c>/healthz</c>).</summary>
    public Uri MetricsUri => new(BaseAddress, "/metrics");

    /// <summary>Re-reads the entities for the fleet metrics now (tests, which run without the refresh timer).</summary>
    internal Task RefreshMetricsAsync(CancellationToken cancellationToken = default) =>
        _app.Services.GetRequiredService<FleetMetricsRefresher>().RefreshAsync(cancellationToken);

    /// <summary>Stops accepting requests and lets in-flight ones finish (within <paramref name="cancellationToken"/>).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private int _disposed;

    /// <summary>An --urls entry as a Uri; Kestrel's wildcard hosts (* and +) are not valid in one.</summary>
    private static Uri? ParseUrl(string url) =>
        Uri.TryCreate(url.Replace('*', 'x').Replace('+', 'x'), UriKind.Absolute, out Uri? parsed) ? parsed : null;

    /// <summary>The port of a Kestrel URL (<c>http://*:7070</c> included); null when it names none.</summary>
    private static int? PortOf(string url) => ParseUrl(url)?.Port;

    /// <summary>The one address Kestrel listens on for <paramref name="url"/>: its IP, or loopback for localhost; null where it listens on all.</summary>
    private static IPAddress? ListenAddressOf(string url)
    {
        if (ParseUrl(url) is not { } parsed) return null;
        if (parsed.IsLoopback && parsed.HostNameType == UriHostNameType.Dns) return IPAddress.Loopback;
        return IPAddress.TryParse(parsed.IdnHost.Trim('[', ']'), out IPAddress? address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any) ? address : null;
    }

    private static bool IsWildcard(string host) => host is "0.0.0.0" or "[::]" or "::" or "*" or "+";
}
