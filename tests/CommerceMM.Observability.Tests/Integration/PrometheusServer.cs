using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Integration;

/// <summary>
/// A real Prometheus (Debian's /usr/bin/prometheus) on 127.0.0.1, scraping one target every second,
/// with its data in a temp folder. Stopped by the PID it was started with.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly DirectoryInfo dir;
    private readonly HttpClient http;

    private PrometheusServer(Process process, DirectoryInfo dir, Uri address)
    {
        this.process = process;
        this.dir = dir;
        http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public static async Task<PrometheusServer> StartAsync(Uri target, TimeSpan readyWithin)
    {
        Tool.RequireInstalled(Tool.Prometheus);
        var dir = Directory.CreateTempSubdirectory("cmm-prometheus-");
        var config = Path.Combine(dir.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
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
            """);
        var port = FreePort();
        var info = new ProcessStartInfo(Tool.Prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir.FullName,
        };
        foreach (var arg in new[]
        {
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(dir.FullName, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start prometheus.");
        // Drain its output so a full pipe can never block it; keep the tail for failure messages.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) File.AppendAllText(Path.Combine(dir.FullName, "stderr.log"), e.Data + "\n"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new PrometheusServer(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        await server.WaitReadyAsync(readyWithin);
        return server;
    }

    /// <summary>Runs an instant query; returns the result vector (empty until the first scrape lands).</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string Value)>> QueryAsync(string promql)
    {
        var response = await http.GetFromJsonAsync<JsonElement>($"api/v1/query?query={Uri.EscapeDataString(promql)}");
        Assert.Equal("success", response.GetProperty("status").GetString());
        return [.. response.GetProperty("data").GetProperty("result").EnumerateArray().Select(r => (
            (IReadOnlyDictionary<string, string>)r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            r.GetProperty("value")[1].GetString()!))];
    }

    /// <summary>Polls <paramref name="promql"/> until <paramref name="done"/> holds or the deadline passes; returns the last result.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string Value)>> PollAsync(
        string promql, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string Value)>, bool> done, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var result = await QueryAsync(promql);
            if (done(result) || deadline.Elapsed > within) return result;
            await Task.Delay(200);
        }
    }

    public string StderrTail()
    {
        var log = Path.Combine(dir.FullName, "stderr.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no stderr)";
    }

    private async Task WaitReadyAsync(TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{StderrTail()}");
            try
            {
                using var response = await http.GetAsync("-/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"prometheus was not ready within {within}:\n{StderrTail()}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        try
        {
            // By the PID we started, never by name: other engineers may run their own Prometheus.
            using var byPid = Process.GetProcessById(process.Id);
            byPid.Kill();
            await byPid.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        process.Dispose();
        try { dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
