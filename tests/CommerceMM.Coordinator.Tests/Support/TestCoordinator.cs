using System.Net.Http.Headers;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Tests.Support;

/// <summary>
/// A real coordinator (Kestrel on 127.0.0.1, port 0) over a per-test temp file store (or a store the test brings) and a manual clock. The background
/// sweep is off: every request sweeps at the manual clock's time, so the tests decide exactly when a rank goes overdue.
/// </summary>
internal sealed class TestCoordinator : IAsyncDisposable
{
    public const string Token = "test-token-0123456789abcdef";

    private readonly List<TestClient> _clients = [];

    private TestCoordinator(string root, JobSpec spec, ManualTimeProvider time, Action<CoordinatorOptions>? configure, IBlobStore? store = null)
    {
        Root = root;
        Spec = spec;
        Time = time;
        Configure = configure;
        Store = store ?? new FileBlobStore(root, time);
    }

    public string Root { get; }

    public JobSpec Spec { get; private set; }

    public ManualTimeProvider Time { get; }

    public IBlobStore Store { get; }

    /// <summary>Wraps the store the next (re)started host uses, e.g. in a store that dies at a crash point; null: the plain store.</summary>
    public Func<IBlobStore, IBlobStore>? WrapStore { get; set; }

    public CoordinatorHost Host { get; private set; } = null!;

    public HttpClient Raw { get; private set; } = null!;

    private Action<CoordinatorOptions>? Configure { get; }

    /// <param name="store">the job's store, e.g. a container on Azurite; by default a file store in a new temp folder</param>
    public static async Task<TestCoordinator> StartAsync(JobSpec? spec = null, Action<CoordinatorOptions>? configure = null, IBlobStore? store = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "cmm-coord-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var coordinator = new TestCoordinator(root, spec ?? new JobSpec("job-a", Workers: 2), new ManualTimeProvider(), configure, store);
        await coordinator.StartHostAsync();
        return coordinator;
    }

    /// <summary>
    /// A second coordinator for the same job over the same store and clock, in a cluster of its own: two activations of
    /// every grain of the job, which only the ETags on the store keep apart. Dispose it before <paramref name="first"/>.
    /// </summary>
    /// <param name="configure">This coordinator's own options (say, other ports); by default the first one's.</param>
    public static async Task<TestCoordinator> StartBesideAsync(TestCoordinator first, Action<CoordinatorOptions>? configure = null)
    {
        // A file store of its own over the same folder, as a second host would open it; any other store is shared as it is.
        IBlobStore? store = first.Store is FileBlobStore ? null : first.Store;
        var coordinator = new TestCoordinator(first.Root, first.Spec, first.Time, configure ?? first.Configure, store) { _sharesRoot = true };
        await coordinator.StartHostAsync();
        return coordinator;
    }

    private bool _sharesRoot;

    /// <summary>A restart whose new host is started with another spec, as a relaunch with, say, more workers.</summary>
    public Task RestartAsync(JobSpec spec)
    {
        Spec = spec;
        return RestartAsync();
    }

    /// <summary>Stops the host and starts a new one over the same store and clock: a coordinator restart.</summary>
    public async Task RestartAsync()
    {
        Raw.Dispose();
        await Host.DisposeAsync();
        await StartHostAsync();
    }

    /// <summary>A client as a worker and the CLI would hold one (few, fast retries: the host is local).</summary>
    /// <param name="incarnation">The process it stands for; by default this test process, like every client in it.</param>
    public TestClient Client(string? token = null, string? incarnation = null)
    {
        var workers = Task.Run(() => CoordinatorClient.ConnectAsync(new CoordinatorClientOptions
        {
            Gateways = [Host.Gateway],
            Job = Spec.Name,
            Token = token ?? Token,
            MaxRetries = 2,
            BaseDelay = TimeSpan.FromMilliseconds(20),
            MaxDelay = TimeSpan.FromMilliseconds(100),
            Incarnation = incarnation ?? CoordinatorClientOptions.ThisProcess,
        })).GetAwaiter().GetResult();
        var status = new JobStatusClient(new JobStatusClientOptions
        {
            BaseAddress = Host.BaseAddress,
            Job = Spec.Name,
            Token = token ?? Token,
            MaxRetries = 2,
            BaseDelay = TimeSpan.FromMilliseconds(20),
            MaxDelay = TimeSpan.FromMilliseconds(100),
        });
        var client = new TestClient(workers, status);
        _clients.Add(client);
        return client;
    }

    public Task<JoinResponse> JoinAsync(string workerId) => Client().TryJoinAsync(workerId);

    /// <summary>Joins all workers (in order) and returns their final, assigned answers.</summary>
    public async Task<IReadOnlyList<JoinResponse>> JoinAllAsync(params string[] workerIds)
    {
        TestClient client = Client();
        foreach (string id in workerIds)
        {
            await client.TryJoinAsync(id);
        }

        var answers = new List<JoinResponse>();
        foreach (string id in workerIds)
        {
            answers.Add(await client.TryJoinAsync(id));
        }

        return answers;
    }

    public static HeartbeatRequest Beat(JoinResponse joined, string workerId, long step, double stepSeconds = 0.5) =>
        new(workerId, joined.Generation, joined.Rank, step, new Dictionary<string, double> { ["mlm"] = 2.5, ["itc"] = 1.25 }, stepSeconds, 0.01);

    /// <summary>What a rank sends while it waits on its peers (or for a stop): alive at <paramref name="step"/>, no step time, no figures.</summary>
    public static HeartbeatRequest Alive(JoinResponse joined, string workerId, long step) => new(workerId, joined.Generation, joined.Rank, step);

    public async ValueTask DisposeAsync()
    {
        foreach (TestClient client in _clients)
        {
            await client.Workers.DisposeAsync();
            client.Status.Dispose();
        }

        Raw.Dispose();
        await Host.DisposeAsync();
        if (_sharesRoot)
        {
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the test over it is not.
        }
    }

    private async Task StartHostAsync()
    {
        var options = new CoordinatorOptions
        {
            Job = Spec,
            Token = Token,
            BlobStore = WrapStore?.Invoke(Store) ?? Store,
            Urls = ["http://127.0.0.1:0"],
            TimeProvider = Time,
            Liveness = new LivenessOptions
            {
                HeartbeatInterval = TimeSpan.FromSeconds(2),
                TimeoutFloor = TimeSpan.FromSeconds(10),
                StepTimeFactor = 5,
                StartupTimeout = TimeSpan.FromSeconds(60),
                RendezvousTimeout = TimeSpan.FromSeconds(30),
                SweepInterval = Timeout.InfiniteTimeSpan,
            },
            // Fleet metrics are refreshed by the tests (RefreshMetricsAsync), on a meter of this coordinator's own:
            // meters are matched by name, and other tests' coordinators run in this process at the same time.
            MetricsRefreshInterval = Timeout.InfiniteTimeSpan,
            MetricsMeterName = $"test-coordinator-{Guid.NewGuid():N}",
        };
        Configure?.Invoke(options);
        // A restart listens where the first start did, as a restarted pod behind its service does: clients reconnect. Ports
        // from FreePorts, so that nothing else takes them between the two.
        (options.SiloPort, options.GatewayPort) = (_siloPort ?? PortOr(options.SiloPort), _gatewayPort ?? PortOr(options.GatewayPort));
        Host = await CoordinatorHost.StartAsync(options, logging =>
        {
            logging.ClearProviders();
            if (Environment.GetEnvironmentVariable("CMM_TEST_LOG") == "1")
            {
                logging.AddSimpleConsole(); // debugging aid: CMM_TEST_LOG=1 dotnet test ...
            }
        });
        Raw = new HttpClient { BaseAddress = Host.BaseAddress };
        (_siloPort, _gatewayPort) = (Host.SiloPort, Host.GatewayPort);
    }

    private int? _siloPort;
    private int? _gatewayPort;

    private static int PortOr(int configured) => configured == 0 ? FreePorts.Next() : configured;

    /// <summary>Re-reads the entities for the fleet metrics and returns a scrape of <c>/metrics</c> (no token).</summary>
    public async Task<Scrape> ScrapeAsync()
    {
        await Host.RefreshMetricsAsync();
        using HttpResponseMessage response = await Raw.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? token = Token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }
}
