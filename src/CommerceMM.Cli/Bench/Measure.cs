using System.Diagnostics;

namespace CommerceMM.Cli.Bench;

/// <summary>Median wall time of repeated runs after a warm-up: these machines are noisy, so never a single run or a mean.</summary>
internal static class Measure
{
    public static double MedianSeconds(Action action, int reps, int warmup = 3) => MedianAndCpuSeconds(action, reps, warmup).Median;

    /// <summary>
    /// The median wall time and the process's mean CPU time per run (all its threads). On a machine
    /// other processes share, wall time also counts the slices they took; CPU time counts only work,
    /// so it moves much less from run to run (idle OpenMP threads sleep: OMP_WAIT_POLICY=PASSIVE).
    /// </summary>
    public static (double Median, double CpuMean) MedianAndCpuSeconds(Action action, int reps, int warmup = 3)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[reps];
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        for (int i = 0; i < reps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        process.Refresh();
        return (Median(times), (process.TotalProcessorTime - cpu).TotalSeconds / reps);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no values", nameof(values));
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
