namespace CommerceMM.Worker.Training;

/// <summary>
/// Steady-state throughput of this generation as one rank sees it: median step time, samples per
/// second for the whole world (ranks step in lock-step), and the share of step time spent in the
/// gradient all-reduce. The first steps (allocation, JIT, warm caches) are left out.
/// </summary>
internal sealed class ThroughputMeter(int warmupSteps)
{
    private readonly List<double> _stepSeconds = [];
    private double _allReduceSeconds, _totalSeconds;
    private long _samples, _seen;

    public void Add(double stepSeconds, double allReduceSeconds, long worldSamples)
    {
        if (++_seen <= warmupSteps) return;
        _stepSeconds.Add(stepSeconds);
        _totalSeconds += stepSeconds;
        _allReduceSeconds += allReduceSeconds;
        _samples += worldSamples;
    }

    public string Summary(int worldSize)
    {
        if (_stepSeconds.Count == 0) return "too few steps to measure throughput";
        var sorted = _stepSeconds.Order().ToArray();
        double median = sorted[sorted.Length / 2];
        return $"{worldSize} workers: median step {median * 1000:F0} ms, {_samples / _totalSeconds:F1} samples/s (all streams, all ranks), " +
               $"all-reduce {100 * _allReduceSeconds / _totalSeconds:F1}% of step time over {_stepSeconds.Count} steps";
    }
}
