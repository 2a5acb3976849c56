using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// A real Prometheus (Debian's /usr/bin/prometheus) on 127.0.0.1 with the configuration a test gives it, its files and
/// data in a temp folder. Stopped by the PID it was started with. Compiled into each test project that needs it.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";

    private readonly Process process;
    private readonly HttpClient http;

    private PrometheusServer(Process process, string directory, Uri address)
    {
        this.process = process;
        Directory = directory;
        http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The folder holding prometheus.yml; relative paths in it (rule files, file_sd targets) resolve here.</summary>
    public string Directory { get; }

    /// <summary>
    /// Writes <paramref name="config"/> (and <paramref name="files"/> beside it, by relative path), starts Prometheus and
    /// waits until it is ready.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(string config, TimeSpan readyWithin, IReadOnlyDictionary<string, string>? files = null)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing; run tools/bootstrap (Debian package 'prometheus').");
        var dir = System.IO.Directory.CreateTempSubdirectory("cmm-prometheus-").FullName;
        var configFile = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, config);
        foreach (var (name, content) in files ?? new Dictionary<string, string>())
        {
            var path = Path.Combine(dir, name);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, content);
        }
        var port = FreePorts.Next();
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir,
        };
        foreach (var arg in new[]
        {
            $"--config.file={configFile}",
            $"--storage.tsdb.path={Path.Combine(dir, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start prometheus.");
        // Drain its output so a full pipe can never block it; keep stderr for failure messages.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) File.AppendAllText(Path.Combine(dir, "stderr.log"), e.Data + "\n"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new PrometheusServer(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        await server.WaitReadyAsync(readyWithin);
        return server;
    }

    /// <summary>Runs an instant query (now, or at <paramref name="atUnixSeconds"/>) and returns its <c>data.result</c> array as is.</summary>
    public async Task<JsonElement> QueryResultAsync(string promql, double? atUnixSeconds = null)
    {
        string at = atUnixSeconds is { } t ? $"&time={t.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)}" : "";
        using var reply = await http.GetAsync($"api/v1/query?query={Uri.EscapeDataString(promql)}{at}");
        var response = await reply.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.GetProperty("status").GetString() == "success", $"{promql}: {response}");
        return response.GetProperty("data").GetProperty("result");
    }

    /// <summary>Runs an instant query; returns the result vector (empty until the first scrape lands).</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string Value)>> QueryAsync(string promql) =>
        [.. (await QueryResultAsync(promql)).EnumerateArray().Select(r => (Labels(r), r.GetProperty("value")[1].GetString()!))];

    /// <summary>
    /// The raw samples of a range-vector query (e.g. <c>cmm_step[10m]</c>) per series, each with its scrape timestamp in
    /// milliseconds: every sample of one scrape of a target carries the same timestamp.
    /// </summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(long TimestampMs, string Value)> Samples)>> QuerySamplesAsync(string rangeQuery) =>
        [.. (await QueryResultAsync(rangeQuery)).EnumerateArray().Select(r => (Labels(r),
            (IReadOnlyList<(long, string)>)[.. r.GetProperty("values").EnumerateArray().Select(v =>
                ((long)Math.Round(v[0].GetDouble() * 1000), v[1].GetString()!))]))];

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
        var log = Path.Combine(Directory, "stderr.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no stderr)";
    }

    public static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, CultureInfo.InvariantCulture),
    };

    private static IReadOnlyDictionary<string, string> Labels(JsonElement series) =>
        series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

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
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
