using System.CommandLine;
using System.Diagnostics;
using System.Net;
using CommerceMM.Cli.Commands;
using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Hosting;
using CommerceMM.Observability.Worker;
using CommerceMM.Tensors;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// `cmm bench metrics`: what serving metrics costs a training step (issue 7: at most 1%). The same Trainer.Step runs
/// with metrics off (nothing recorded, nobody scraping) and on (every step recorded as the worker does, and /metrics
/// scraped over HTTP at the scrape interval), in alternating rounds; the figure is the median over rounds of each
/// round's relative difference. The direct costs (one RecordStep, one scrape) are measured too, since on a shared
/// machine the A/B difference is mostly noise around them.
/// </summary>
internal static class MetricsBenchmark
{
    private const ulong Seed = 1;

    public static Command CreateCommand()
    {
        var preset = CommonOptions.Preset();
        var batch = new Option<int>("--batch") { Description = "pairs per step (pass 1) and source/target pairs (pass 2)", DefaultValueFactory = _ => 16 };
        var rounds = new Option<int>("--rounds") { Description = "alternating off/on rounds; the overhead is the median over rounds", DefaultValueFactory = _ => 9 };
        var reps = new Option<int>("--reps") { Description = "timed steps per measurement in a round (after 3 warm-up steps)", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var interval = new Option<double>("--scrape-interval") { Description = "seconds between scrapes while metrics are on (Prometheus default: 15; our local config in tests: 1)", DefaultValueFactory = _ => 1.0 };
        var scrapeOnly = new Option<bool>("--scrape-only") { Description = "no training: only what one /metrics scrape (over HTTP and in process) and one RecordStep cost (ScrapeCost.cs); --rounds rounds" };
        var scrapes = new Option<int>("--scrapes") { Description = "scrapes per round with --scrape-only", DefaultValueFactory = _ => 2000 };
        var command = new Command("metrics", "Step-time overhead of recording and serving metrics: the same step with metrics off and on, alternating rounds.")
        {
            preset, batch, rounds, reps, threads, interval, scrapeOnly, scrapes,
        };
        command.SetAction((r, _) => r.GetValue(scrapeOnly)
            ? ScrapeCost.RunAsync(r.GetValue(scrapes), r.GetValue(rounds))
            : RunAsync(r.GetValue(preset)!, r.GetValue(batch), r.GetValue(rounds), r.GetValue(reps), r.GetValue(threads), r.GetValue(interval)));
        return command;
    }

    private static async Task<int> RunAsync(string presetName, int rows, int rounds, int reps, int threads, double intervalSeconds)
    {
        if (rounds < 1 || reps < 1) throw new ArgumentOutOfRangeException(nameof(rounds), "--rounds and --reps must be at least 1");
        if (!(intervalSeconds > 0)) throw new ArgumentOutOfRangeException(nameof(intervalSeconds), intervalSeconds, "--scrape-interval must be positive");
        TorchRuntime.NumThreads = threads;
        var config = CommerceMMConfig.Preset(presetName);
        using var model = new CommerceMMModel(config, Seed);
        using var batch = new SyntheticBatch(config, rows, Seed + 1);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Seed = Seed,
            // A constant rate: the step's cost must not drift over the run for reasons of its own.
            Schedule = new WarmupCosineSchedule(1e-4, WarmupSteps: 0, TotalSteps: long.MaxValue / 2, MinLearningRate: 1e-4),
        });
        // As a worker has them: one recorder, one pipeline, a real Kestrel /metrics, scraped over loopback HTTP.
        using var metrics = new TrainingMetrics();
        using var pipeline = MetricsPipeline.Create();
        await using var server = await MetricsServer.StartAsync(pipeline, IPAddress.Loopback, port: 0).ConfigureAwait(false);
        using var http = new HttpClient();
        var interval = TimeSpan.FromSeconds(intervalSeconds);
        Console.WriteLine($"cmm bench metrics: preset {presetName}, batch {rows}, {threads} intra-op threads; scrape every {intervalSeconds:0.###} s while on; " +
                          $"median of {rounds} alternating rounds of {reps} steps each ({(IsRelease ? "Release" : "Debug build: figures are not representative")})");

        long step = 0;
        StepResult Step() => trainer.Step(batch.Pairs, batch.Omni, step++);
        Phase Off() => Phase.Run(() => Step(), reps);
        async Task<Phase> OnAsync()
        {
            using var stop = new CancellationTokenSource();
            Task scraping = ScrapeUntilAsync(http, server.MetricsUri, interval, stop.Token);
            Phase phase = Phase.Run(() => Record(metrics, Step(), step, rows), reps);
            await stop.CancelAsync().ConfigureAwait(false);
            await scraping.ConfigureAwait(false);
            return phase;
        }

        var off = new List<double>();
        var on = new List<double>();
        var wallOverhead = new List<double>();
        var cpuOverhead = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            Console.Error.Write($"round {round}/{rounds} ...");
            // Which goes first alternates too, so a drift within a round (heat, a neighbour) hits both alike.
            Phase a, b;
            if (round % 2 == 1) { a = Off(); b = await OnAsync().ConfigureAwait(false); }
            else { b = await OnAsync().ConfigureAwait(false); a = Off(); }
            off.Add(a.WallSeconds);
            on.Add(b.WallSeconds);
            wallOverhead.Add((b.WallSeconds - a.WallSeconds) / a.WallSeconds);
            cpuOverhead.Add((b.CpuSecondsPerStep - a.CpuSecondsPerStep) / a.CpuSecondsPerStep);
            Console.Error.WriteLine($" off {a.WallSeconds * 1e3:F1} ms ({a.CpuSecondsPerStep * 1e3:F1} ms CPU), on {b.WallSeconds * 1e3:F1} ms ({b.CpuSecondsPerStep * 1e3:F1} ms CPU)");
        }

        double recordUs = RecordMicroseconds(metrics, Step(), rows);
        double scrapeMs = await ScrapeMillisecondsAsync(http, server.MetricsUri).ConfigureAwait(false);
        double stepMs = Measure.Median(off) * 1e3;
        // Per step: one recording, plus the scrape's share (one per interval, over the steps in that interval).
        double directShare = (recordUs / 1e3 + scrapeMs * Math.Min(1, stepMs / interval.TotalMilliseconds)) / stepMs;
        Console.WriteLine();
        Console.WriteLine($"{"measurement",-48} {"value",12}");
        Console.WriteLine($"{"step, metrics off (ms, median of rounds)",-48} {stepMs,12:F2}");
        Console.WriteLine($"{"step, metrics on (ms, median of rounds)",-48} {Measure.Median(on) * 1e3,12:F2}");
        Console.WriteLine($"{"overhead, wall time A/B (median of rounds)",-48} {Measure.Median(wallOverhead),12:P2}");
        Console.WriteLine($"{"  per-round differences",-48} {string.Join(" ", wallOverhead.Select(o => o.ToString("+0.0%;-0.0%;0.0%"))),12}");
        Console.WriteLine($"{"overhead, process CPU time A/B (median of rounds)",-48} {Measure.Median(cpuOverhead),12:P2}");
        Console.WriteLine($"{"  per-round differences",-48} {string.Join(" ", cpuOverhead.Select(o => o.ToString("+0.0%;-0.0%;0.0%"))),12}");
        Console.WriteLine($"{"RecordStep, 14 losses + weights (us)",-48} {recordUs,12:F1}");
        Console.WriteLine($"{"one scrape of /metrics over HTTP (ms)",-48} {scrapeMs,12:F2}");
        Console.WriteLine($"{"overhead, direct costs / step time",-48} {directShare,12:P3}");
        Console.WriteLine("target: at most 1% (issue 7)");
        return 0;
    }

    /// <summary>
    /// One measured phase: the median wall time of a step, and the process's CPU time per step (every thread: the
    /// scraper, Kestrel and OpenTelemetry included), which other processes on a shared machine disturb far less.
    /// </summary>
    private readonly record struct Phase(double WallSeconds, double CpuSecondsPerStep)
    {
        public static Phase Run(Action step, int reps)
        {
            step(); // a warm-up step: the switch between phases must not be timed
            using var self = Process.GetCurrentProcess();
            TimeSpan cpuBefore = self.TotalProcessorTime;
            var times = new double[reps];
            for (int i = 0; i < reps; i++)
            {
                long start = Stopwatch.GetTimestamp();
                step();
                times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            self.Refresh();
            return new Phase(Measure.Median(times), (self.TotalProcessorTime - cpuBefore).TotalSeconds / reps);
        }
    }

    /// <summary>What the worker records per step (WorkerRunner): losses of the tasks that ran, every weight, timings, throughput.</summary>
    private static void Record(TrainingMetrics metrics, StepResult r, long stepsDone, int rows) => metrics.RecordStep(new StepReport
    {
        Step = stepsDone,
        Duration = TimeSpan.FromSeconds(r.Timings.Total),
        AllReduce = TimeSpan.FromSeconds(r.Timings.AllReduce),
        GradNorm = double.IsFinite(r.GradNorm) ? r.GradNorm : null,
        LearningRate = r.LearningRate,
        Samples = new Dictionary<string, long> { [SampleStreams.Pairs] = rows, [SampleStreams.Omni] = rows },
        Tokens = rows * 32, // any non-zero count: the counter's cost does not depend on it
        TaskLosses = r.Tasks.Where(t => t.Status == TaskOutcome.Ok).ToDictionary(t => t.Task, t => t.Loss),
        TaskWeights = r.Tasks.ToDictionary(t => t.Task, t => t.Weight),
    });

    private static double RecordMicroseconds(TrainingMetrics metrics, StepResult result, int rows)
    {
        const int calls = 200;
        return Measure.MedianSeconds(() =>
        {
            for (int i = 0; i < calls; i++) Record(metrics, result, i, rows);
        }, reps: 9) / calls * 1e6;
    }

    private static async Task<double> ScrapeMillisecondsAsync(HttpClient http, Uri uri)
    {
        var times = new List<double>();
        for (int i = 0; i < 33; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await http.GetStringAsync(uri).ConfigureAwait(false);
            if (i >= 3) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return Measure.Median(times);
    }

    private static async Task ScrapeUntilAsync(HttpClient http, Uri uri, TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                await http.GetStringAsync(uri, stop).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static bool IsRelease =>
        typeof(MetricsBenchmark).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }];
}
