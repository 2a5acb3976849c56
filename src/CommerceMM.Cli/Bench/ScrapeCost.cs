using System.Diagnostics;
using System.Globalization;
using System.Net;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Hosting;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Worker;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench metrics --scrape-only`: what one /metrics scrape and one RecordStep cost, without the engine. A worker's
/// recorder and pipeline behind a real Kestrel /metrics on loopback, with what a CommerceMM worker has recorded after some
/// steps; then many scrapes over HTTP (as Prometheus makes them; the client's side is in the process too) and in process
/// (collect and render only), and many RecordStep calls.
/// </summary>
/// <remarks>
/// Uses only what the metrics library has offered since issue 7 (<see cref="TrainingMetrics"/>,
/// <see cref="MetricsPipeline.Create"/>, <see cref="MetricsPipeline.Scrape"/>, <see cref="MetricsServer"/>), so this same
/// file compiles against an older CommerceMM.Observability for an old-against-new comparison (CONTRIBUTING.md, Benchmarks).
/// Medians over rounds; the CPU figures are the process's CPU time per scrape (all threads), which neighbours on a shared
/// machine disturb less than wall time.
/// </remarks>
internal static class ScrapeCost
{
    internal sealed record Figures(
        int Bytes, double HttpMedianMs, double HttpP90Ms, double HttpCpuMs, double InProcessMedianMs, double InProcessCpuMs, double RecordStepMicroseconds,
        double RecordStepCpuMicroseconds);

    public static async Task<int> RunAsync(int scrapes, int rounds, string label = "current")
    {
        if (scrapes < 10 || rounds < 1) throw new ArgumentOutOfRangeException(nameof(scrapes), "--scrapes must be at least 10 and --rounds at least 1");
        Console.WriteLine($"cmm bench metrics --scrape-only ({label}): {rounds} rounds of {scrapes} scrapes over HTTP and in process, " +
                          $"and RecordStep; medians over rounds ({(IsRelease ? "Release" : "Debug build: figures are not representative")})");
        var all = new List<Figures>();
        for (int round = 1; round <= rounds; round++)
        {
            Console.Error.Write($"round {round}/{rounds} ...");
            var f = await MeasureAsync(scrapes).ConfigureAwait(false);
            all.Add(f);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $" HTTP {f.HttpMedianMs:F3} ms ({f.HttpCpuMs:F3} ms CPU), in process {f.InProcessMedianMs:F3} ms ({f.InProcessCpuMs:F3} ms CPU), RecordStep {f.RecordStepMicroseconds:F2} us ({f.RecordStepCpuMicroseconds:F2} us CPU)"));
        }
        double M(Func<Figures, double> pick) => Measure.Median(all.Select(pick).ToList());
        Console.WriteLine();
        Console.WriteLine($"{"measurement",-48} {"value",12}");
        Console.WriteLine($"{"scrape body (bytes)",-48} {all[0].Bytes,12}");
        Console.WriteLine($"{"scrape over HTTP, wall (ms, median)",-48} {M(f => f.HttpMedianMs),12:F4}");
        Console.WriteLine($"{"scrape over HTTP, wall (ms, p90)",-48} {M(f => f.HttpP90Ms),12:F4}");
        Console.WriteLine($"{"scrape over HTTP, process CPU (ms per scrape)",-48} {M(f => f.HttpCpuMs),12:F4}");
        Console.WriteLine($"{"scrape in process, wall (ms, median)",-48} {M(f => f.InProcessMedianMs),12:F4}");
        Console.WriteLine($"{"scrape in process, process CPU (ms per scrape)",-48} {M(f => f.InProcessCpuMs),12:F4}");
        Console.WriteLine($"{"RecordStep, 14 losses + weights, wall (us, median)",-48} {M(f => f.RecordStepMicroseconds),12:F3}");
        Console.WriteLine($"{"RecordStep, process CPU (us per call)",-48} {M(f => f.RecordStepCpuMicroseconds),12:F3}");
        return 0;
    }

    /// <summary>One round: a fresh recorder, pipeline and server.</summary>
    public static async Task<Figures> MeasureAsync(int scrapes)
    {
        using var metrics = new TrainingMetrics();
        using var pipeline = MetricsPipeline.Create();
        await using var server = await MetricsServer.StartAsync(pipeline, IPAddress.Loopback, port: 0).ConfigureAwait(false);
        using var http = new HttpClient();
        for (long step = 1; step <= 50; step++) metrics.RecordStep(Report(step));
        metrics.RecordCheckpointSave(TimeSpan.FromSeconds(2), 50_000_000);
        metrics.RecordCheckpointCommitted(40);

        var uri = server.MetricsUri;
        int bytes = (await http.GetStringAsync(uri).ConfigureAwait(false)).Length;
        // Warm-up: JIT and tiering, the connection, the exporter's buffers.
        for (int i = 0; i < Math.Max(100, scrapes / 5); i++) await http.GetStringAsync(uri).ConfigureAwait(false);
        for (int i = 0; i < Math.Max(100, scrapes / 5); i++) pipeline.Scrape();

        using var self = Process.GetCurrentProcess();
        var wall = new double[scrapes];
        var cpu = self.TotalProcessorTime;
        for (int i = 0; i < scrapes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await http.GetStringAsync(uri).ConfigureAwait(false);
            wall[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        self.Refresh();
        double httpCpu = (self.TotalProcessorTime - cpu).TotalMilliseconds / scrapes;

        var inProcess = new double[scrapes];
        cpu = self.TotalProcessorTime;
        for (int i = 0; i < scrapes; i++)
        {
            long start = Stopwatch.GetTimestamp();
            pipeline.Scrape();
            inProcess[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        self.Refresh();
        double inProcessCpu = (self.TotalProcessorTime - cpu).TotalMilliseconds / scrapes;

        // The reports are built beforehand: building one is the worker's cost, not the metrics'.
        const int calls = 2_000;
        var reports = Enumerable.Range(0, calls).Select(i => Report(100 + i)).ToArray();
        foreach (var report in reports) metrics.RecordStep(report); // warm-up
        var record = new List<double>();
        self.Refresh();
        cpu = self.TotalProcessorTime;
        for (int r = 0; r < 10; r++)
        {
            long start = Stopwatch.GetTimestamp();
            foreach (var report in reports) metrics.RecordStep(report);
            record.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls);
        }
        self.Refresh();
        double recordCpu = (self.TotalProcessorTime - cpu).TotalMicroseconds / (10 * calls);

        return new Figures(bytes, Measure.Median(wall), Quantile(wall, 0.9), httpCpu, Measure.Median(inProcess), inProcessCpu, Measure.Median(record), recordCpu);
    }

    /// <summary>What a CommerceMM worker records per step (WorkerRunner): 14 losses and weights, timings, throughput.</summary>
    private static StepReport Report(long step) => new()
    {
        Step = step,
        Duration = TimeSpan.FromMilliseconds(120),
        DataWait = TimeSpan.FromMilliseconds(2),
        AllReduce = TimeSpan.FromMilliseconds(15),
        GradNorm = 1.5,
        LearningRate = 1e-4,
        Tokens = 512,
        Samples = new Dictionary<string, long> { [SampleStreams.Pairs] = 16, [SampleStreams.Omni] = 16 },
        TaskLosses = TrainingTasks.CommerceMM.ToDictionary(t => t, t => 1.0 / (step + t.Length)),
        TaskWeights = TrainingTasks.CommerceMM.ToDictionary(t => t, _ => 1.0),
    };

    private static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(q * (sorted.Length - 1))];
    }

    private static bool IsRelease =>
        typeof(ScrapeCost).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }];
}
