using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench control-plane`: what the control plane costs. Round trips of join, heartbeat and vote from another process
/// through the Orleans gateway (and, given a cmm from before the move, through its HTTP API), then a simulated fleet of
/// workers heartbeating once a second against one silo and against two (Redis membership): the silos' CPU, heartbeat
/// latency percentiles, and the time a full rendezvous of the fleet takes. Silos are real `cmm coordinator` processes.
/// </summary>
internal static class ControlPlaneBenchmark
{
    private const string Job = "bench-control";
    private const string Token = "bench-token-0123456789abcdef";
    private static readonly Dictionary<string, double> Losses = Enumerable.Range(0, 14).ToDictionary(i => $"task{i:D2}", i => 1.0 + i / 10.0);

    public static Command CreateCommand()
    {
        var httpCmm = new Option<FileInfo?>("--http-cmm") { Description = "cmm.dll of a build from before the move to Orleans: its coordinator's HTTP worker API is timed beside the grains (tools/bench/control-plane/run builds one)" };
        var redis = new Option<string?>("--redis") { Description = "Redis host:port for the 2-silo fleet (tools/bench/control-plane/run starts one); without it the 2-silo run is skipped" };
        var workers = new Option<int>("--workers") { Description = "simulated workers in the fleet runs", DefaultValueFactory = _ => 1024 };
        var seconds = new Option<int>("--seconds") { Description = "seconds each fleet run heartbeats", DefaultValueFactory = _ => 15 };
        var rounds = new Option<int>("--rounds") { Description = "round trips timed per call", DefaultValueFactory = _ => 2000 };
        var command = new Command("control-plane", "Join, heartbeat and vote round trips through the Orleans gateway (vs the old HTTP API), and a 1,024-worker fleet against 1 and 2 silos.")
            { httpCmm, redis, workers, seconds, rounds };
        command.SetAction(async (r, ct) =>
        {
            string runs = Directory.CreateTempSubdirectory("cmm-bench-control-").FullName;
            try
            {
                Console.WriteLine($"cmm bench control-plane: silos are `cmm coordinator` processes on this machine ({Environment.ProcessorCount} cores); clients run in this process");
                await RoundTripsAsync(runs, r.GetValue(rounds), r.GetValue(httpCmm), ct).ConfigureAwait(false);
                int fleet = r.GetValue(workers), duration = r.GetValue(seconds);
                await FleetAsync(runs, fleet, duration, silos: 1, redis: null, ct).ConfigureAwait(false);
                if (r.GetValue(redis) is { } endpoint) await FleetAsync(runs, fleet, duration, silos: 2, endpoint, ct).ConfigureAwait(false);
                else Console.WriteLine("fleet, 2 silos: skipped (no --redis)");
                return 0;
            }
            finally
            {
                Directory.Delete(runs, recursive: true);
            }
        });
        return command;
    }

    private static async Task RoundTripsAsync(string runs, int rounds, FileInfo? httpCmm, CancellationToken ct)
    {
        using Silo silo = Silo.Start(runs, "rt", workers: 2, clustering: null, cmmDll: null);
        await using CoordinatorClient client = await CoordinatorClient.ConnectAsync(
            new CoordinatorClientOptions { Gateways = [silo.Gateway], Job = Job + "-rt", Token = Token }, ct).ConfigureAwait(false);
        await client.TryJoinAsync("w0", ct).ConfigureAwait(false);
        JoinResponse joined = await client.JoinAsync("w1", ct).ConfigureAwait(false);
        JoinResponse w0 = await client.TryJoinAsync("w0", ct).ConfigureAwait(false);
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(joined.Generation, 1_000_000, "bench"), ct).ConfigureAwait(false);
        var grains = new Dictionary<string, Func<Task>>
        {
            ["join"] = () => client.TryJoinAsync("w0", ct),
            ["heartbeat"] = () => client.HeartbeatAsync(Beat("w0", w0, step: 1), ct),
            ["vote"] = () => client.VoteCheckpointAsync(Vote(w0), ct),
        };
        var orleans = await TimeAsync(grains, rounds).ConfigureAwait(false);

        Dictionary<string, double>? http = null;
        if (httpCmm is not null)
        {
            using Silo old = Silo.Start(runs, "http", workers: 2, clustering: null, cmmDll: httpCmm.FullName);
            using var web = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{old.Http}/v1/jobs/{Job}-http/") };
            web.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            await WaitForHttpAsync(web, ct).ConfigureAwait(false);
            async Task<T> PostAsync<T>(string path, object body) =>
                (await (await web.PostAsJsonAsync(path, body, CoordinatorJson.Options, ct).ConfigureAwait(false)).EnsureSuccessStatusCode()
                    .Content.ReadFromJsonAsync<T>(CoordinatorJson.Options, ct).ConfigureAwait(false))!;
            string incarnation = Guid.NewGuid().ToString("N");
            await PostAsync<JoinResponse>("join", new JoinRequest("w0", incarnation)).ConfigureAwait(false);
            JoinResponse h1;
            do { h1 = await PostAsync<JoinResponse>("join", new JoinRequest("w1", incarnation)).ConfigureAwait(false); await Task.Delay(50, ct).ConfigureAwait(false); }
            while (h1.Status != JoinStatus.Assigned);
            JoinResponse h0 = await PostAsync<JoinResponse>("join", new JoinRequest("w0", incarnation)).ConfigureAwait(false);
            await PostAsync<CheckpointOrderView>("checkpoints/orders", new CheckpointOrderRequest(h1.Generation, 1_000_000, "bench")).ConfigureAwait(false);
            http = await TimeAsync(new Dictionary<string, Func<Task>>
            {
                ["join"] = () => PostAsync<JoinResponse>("join", new JoinRequest("w0", incarnation)),
                ["heartbeat"] = () => PostAsync<OrderReply>("heartbeat", Beat("w0", h0, step: 1)),
                ["vote"] = () => PostAsync<CheckpointVoteReply>("checkpoints/votes", Vote(h0)),
            }, rounds).ConfigureAwait(false);
        }

        Console.WriteLine($"round trips from another process, median of {rounds} after a warm-up (ms):");
        Console.WriteLine($"  {"call",-10} {"grains",10} {"old HTTP",10} {"ratio",8}");
        foreach ((string call, double ms) in orleans)
        {
            string old = http is null ? "-" : http[call].ToString("F3", CultureInfo.InvariantCulture);
            string ratio = http is null ? "-" : (ms / http[call]).ToString("F2", CultureInfo.InvariantCulture) + "x";
            Console.WriteLine($"  {call,-10} {ms,10:F3} {old,10} {ratio,8}");
        }
    }

    private static async Task FleetAsync(string runs, int workers, int seconds, int silos, string? redis, CancellationToken ct)
    {
        string name = $"fleet{silos}";
        var processes = Enumerable.Range(0, silos).Select(_ => Silo.Start(runs, name, workers, redis is null ? null : $"redis={redis}", cmmDll: null)).ToList();
        try
        {
            int connections = Math.Min(16, workers);
            var clients = new List<CoordinatorClient>();
            for (int i = 0; i < connections; i++)
            {
                clients.Add(await CoordinatorClient.ConnectAsync(new CoordinatorClientOptions
                {
                    Gateways = [.. processes.Select(p => p.Gateway)], Job = $"{Job}-{name}", Token = Token, Incarnation = $"bench{i}",
                }, ct).ConfigureAwait(false));
            }

            // A full rendezvous: every worker joins, then polls until the last join assigns all ranks.
            var rendezvous = Stopwatch.StartNew();
            var joined = new JoinResponse[workers];
            await Parallel.ForAsync(0, workers, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (w, token) =>
                joined[w] = await clients[w % connections].TryJoinAsync($"w{w}", token).ConfigureAwait(false)).ConfigureAwait(false);
            await Parallel.ForAsync(0, workers, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (w, token) =>
                joined[w] = await clients[w % connections].JoinAsync($"w{w}", token).ConfigureAwait(false)).ConfigureAwait(false);
            double rendezvousSeconds = rendezvous.Elapsed.TotalSeconds;

            // Every worker heartbeats once a second (spread over the second), as a step of about a second would.
            var latencies = new ConcurrentBag<double>();
            var evicted = new ConcurrentBag<string>();
            var cpuBefore = processes.Select(p => p.CpuSeconds()).ToArray();
            var wall = Stopwatch.StartNew();
            await Parallel.ForAsync(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = ct }, async (w, token) =>
            {
                await Task.Delay(TimeSpan.FromSeconds((double)w / workers), token).ConfigureAwait(false);
                for (long step = 1; wall.Elapsed.TotalSeconds < seconds; step++)
                {
                    long sent = Stopwatch.GetTimestamp();
                    try
                    {
                        await clients[w % connections].HeartbeatAsync(Beat($"w{w}", joined[w], step, stepSeconds: 1.0), token).ConfigureAwait(false);
                    }
                    catch (CoordinatorException e) when (e.MustRejoin)
                    {
                        evicted.Add(e.Message); // the control plane fell behind: this worker's heartbeats came too late
                        return;
                    }

                    double took = Stopwatch.GetElapsedTime(sent).TotalSeconds;
                    latencies.Add(took * 1000);
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, 1 - took)), token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
            double elapsed = wall.Elapsed.TotalSeconds;
            var cpu = processes.Select((p, i) => 100 * (p.CpuSeconds() - cpuBefore[i]) / elapsed).ToArray();
            var sorted = latencies.Order().ToArray();
            Console.WriteLine($"fleet, {silos} silo{(silos > 1 ? "s" : "")} ({(redis is null ? "localhost" : "Redis")} clustering), {workers} workers over {connections} client connections:");
            Console.WriteLine($"  full rendezvous of {workers} ranks: {rendezvousSeconds:F2} s");
            Console.WriteLine($"  heartbeats: {sorted.Length / elapsed:F0}/s; latency p50 {Percentile(sorted, 0.50):F2} ms, p99 {Percentile(sorted, 0.99):F2} ms, max {sorted[^1]:F1} ms");
            Console.WriteLine($"  silo CPU: {string.Join(", ", cpu.Select(c => $"{c:F0}%"))} of one core");
            if (!evicted.IsEmpty) Console.WriteLine($"  {evicted.Count} workers were told to rejoin (heartbeats answered too late); first: {evicted.First()}");
            foreach (var client in clients) await client.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
        }
    }

    private static async Task<Dictionary<string, double>> TimeAsync(Dictionary<string, Func<Task>> calls, int rounds)
    {
        var medians = new Dictionary<string, double>();
        foreach ((string name, Func<Task> call) in calls)
        {
            for (int i = 0; i < Math.Min(500, rounds); i++) await call().ConfigureAwait(false); // JIT and connection warm-up
            var times = new double[rounds];
            for (int i = 0; i < rounds; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await call().ConfigureAwait(false);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            medians[name] = Measure.Median(times);
        }

        return medians;
    }

    private static HeartbeatRequest Beat(string workerId, JoinResponse joined, long step, double stepSeconds = 0.5) =>
        new(workerId, joined.Generation, joined.Rank, step, Losses, stepSeconds, 0.01, 0.02);

    private static CheckpointVote Vote(JoinResponse joined) =>
        new("w0", joined.Generation, joined.Rank, 1_000_000,
            [new CheckpointFile($"rank-{joined.Rank:D4}/model.safetensors", 1 << 20, new string('a', 64))], "cfg-bench", "bench", null);

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static async Task WaitForHttpAsync(HttpClient web, CancellationToken ct)
    {
        for (var clock = Stopwatch.StartNew(); ; await Task.Delay(100, ct).ConfigureAwait(false))
        {
            try
            {
                if ((await web.GetAsync("status", ct).ConfigureAwait(false)).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
            }
        }
    }

    /// <summary>One `cmm coordinator` process of the bench's job (this cmm, or an older build given as its cmm.dll).</summary>
    private sealed class Silo : IDisposable
    {
        private readonly Process _process;

        private Silo(Process process, int http, int gateway) => (_process, Http, Gateway) = (process, http, $"127.0.0.1:{gateway}");

        public int Http { get; }

        public string Gateway { get; }

        public static Silo Start(string runs, string name, int workers, string? clustering, string? cmmDll)
        {
            int http = FreePort(), gateway = FreePort(), silo = FreePort();
            string[] args =
            [
                "coordinator", "--set", $"job.name={Job}-{name}", "--set", $"job.workers={workers}", "--set", $"job.min_workers={workers}",
                "--set", $"checkpoint.store=file:{runs}", "--set", "checkpoint.every=0", "--urls", $"http://127.0.0.1:{http}",
                .. cmmDll is null ? (string[])["--gateway-port", $"{gateway}", "--silo-port", $"{silo}"] : [],
                .. clustering is null ? [] : (string[])["--clustering", clustering],
            ];
            var environment = new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = Token };
            Process process;
            if (cmmDll is null)
            {
                process = SelfProcess.Start(args, redirectOutput: true, environment);
            }
            else
            {
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
                info.ArgumentList.Add(cmmDll);
                foreach (string a in args) info.ArgumentList.Add(a);
                foreach ((string key, string value) in environment) info.Environment[key] = value;
                process = Process.Start(info)!;
            }

            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (cmmDll is null) WaitForPort(gateway, process);
            return new Silo(process, http, gateway);
        }

        public double CpuSeconds()
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalSeconds;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }

        private static void WaitForPort(int port, Process process)
        {
            for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60); Thread.Sleep(100))
            {
                if (process.HasExited) throw new InvalidOperationException($"cmm coordinator exited with {process.ExitCode} before listening");
                try
                {
                    using var probe = new TcpClient();
                    probe.Connect("127.0.0.1", port);
                    return;
                }
                catch (SocketException)
                {
                }
            }

            throw new TimeoutException($"cmm coordinator did not listen on its gateway port {port} within 60 s");
        }

        private static int FreePort()
        {
            var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }
}
