using System.Net;
using System.Net.Sockets;

namespace CommerceMM.Coordinator.Client;

/// <summary>How a worker reaches one job's grains: the silos' gateways, the job, its token, and how hard to try.</summary>
public sealed class CoordinatorClientOptions : ControlPlaneClientOptions
{
    /// <summary>
    /// Votes and orders get 8 s per attempt rather than 30: a vote caught on a silo that died must be retried on a survivor
    /// before the ranks waiting for it in their all-reduce miss their heartbeats (10 s at least).
    /// </summary>
    public CoordinatorClientOptions() => AttemptTimeout = TimeSpan.FromSeconds(8);

    /// <summary>The Orleans gateway port a coordinator listens on unless told otherwise.</summary>
    public const int DefaultGatewayPort = 30000;

    /// <summary>
    /// Gateways of the job's silos as <c>host:port</c> (a port-less host means <see cref="DefaultGatewayPort"/>). A host
    /// name that resolves to several addresses (a headless Kubernetes service) names all of them; calls go to any gateway
    /// that answers, so one silo's failure is ridden out.
    /// </summary>
    public required IReadOnlyList<string> Gateways { get; set; }

    /// <summary>
    /// Sent with every join: which process this is. A worker that joins again from a new process (a relaunch, a
    /// supervisor restart) thereby starts a new generation, so nothing its old process did can count.
    /// <value>One random value per process (<see cref="ThisProcess"/>), shared by its clients.</value>
    /// </summary>
    /// <remarks>Tests that play several launches in one process set distinct values.</remarks>
    public string? Incarnation { get; set; } = ThisProcess;

    /// <summary>
    /// Deadline of one attempt of a heartbeat, join, report or rendezvous call. Short, so that a call caught on a silo
    /// that just died is retried on a survivor well inside the heartbeat timeout (10 s at least). <value>4 s.</value>
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>This process's incarnation: random, fixed for the life of the process.</summary>
    public static string ThisProcess { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Parses <c>host:port[,host:port…]</c>, as <c>--coordinator</c> takes it; throws naming the bad entry.</summary>
    public static IReadOnlyList<string> ParseGateways(string text)
    {
        var gateways = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (gateways.Length == 0)
        {
            throw new ArgumentException("at least one gateway host:port is required (e.g. coordinator:30000)");
        }

        foreach (string gateway in gateways)
        {
            _ = SplitHostPort(gateway);
        }

        return gateways;
    }

    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(Gateways, nameof(Gateways));
        ParseGateways(string.Join(',', Gateways));
        if (CallTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(CallTimeout)} must be positive (was {CallTimeout}).", nameof(CallTimeout));
        }

        if (Incarnation is not null && (Incarnation.Length is 0 or > 64 || !Incarnation.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new ArgumentException($"{nameof(Incarnation)} must be 1 to 64 of A-Z a-z 0-9 - _ (was '{Incarnation}').", nameof(Incarnation));
        }
    }

    /// <summary>Every gateway's addresses (names resolved now), for the Orleans client's static gateway list.</summary>
    internal async Task<IPEndPoint[]> ResolveAsync(CancellationToken cancellationToken)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (string gateway in Gateways)
        {
            (string host, int port) = SplitHostPort(gateway);
            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(host, out IPAddress? literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new CoordinatorException($"cannot resolve coordinator gateway '{gateway}': {e.Message}", innerException: e);
            }

            endpoints.AddRange(addresses.Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6).Select(a => new IPEndPoint(a, port)));
        }

        return [.. endpoints.Distinct()];
    }

    private static (string Host, int Port) SplitHostPort(string gateway)
    {
        if (gateway.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"coordinator gateway '{gateway}' must be host:port (workers call the silo's Orleans gateway, not the HTTP API), e.g. coordinator:{DefaultGatewayPort}");
        }

        int colon = gateway.LastIndexOf(':');
        string host = colon < 0 ? gateway : gateway[..colon].Trim('[', ']');
        if (colon < 0)
        {
            return (host, DefaultGatewayPort);
        }

        return host.Length > 0 && int.TryParse(gateway[(colon + 1)..], out int port) && port is > 0 and <= 65535
            ? (host, port)
            : throw new ArgumentException($"coordinator gateway '{gateway}' must be host:port with a port 1-65535, e.g. coordinator:{DefaultGatewayPort}");
    }
}
