namespace CommerceMM.Worker.Training;

/// <summary>
/// Steady-state throughput of this generation as one rank sees it: median step time, samples per
/// second for the whole world (ranks step in lock-step), the share of step time spent in the
/// gradient all-reduce, and what the control plane costs: the heartbeat each step waits for, as a share
/// of the time per step. The first steps (allocation, JIT, warm caches) are left out.
/// </summary>
internal sealed class ThroughputMeter(int warmupSteps)
{
    private readonly List<double> _stepSeconds = [];
    private readonly List<double> _heartbeatSeconds = [];
    private double _allReduceSeconds, _totalSeconds, _controlSeconds;
    private long _samples, _seen;

    public void Add(double stepSeconds, double allReduceSeconds, double heartbeatSeconds, long worldSamples)
    {
        if (++_seen <= warmupSteps) return;
        _stepSeconds.Add(stepSeconds);
        _heartbeatSeconds.Add(heartbeatSeconds);
        _totalSeconds += stepSeconds;
        _allReduceSeconds += allReduceSeconds;
        _controlSeconds += heartbeatSeconds;
        _samples += worldSamples;
    }

    public string Summary(int worldSize)
    {
        if (_stepSeconds.Count == 0) return "too few steps to measure throughput";
        double median = Median(_stepSeconds), heartbeat = Median(_heartbeatSeconds);
        return $"{worldSize} workers: median step {median * 1000:F0} ms, {_samples / _totalSeconds:F1} samples/s (all streams, all ranks), " +
               $"all-reduce {100 * _allReduceSeconds / _totalSeconds:F1}% of step time over {_stepSeconds.Count} steps; " +
               $"control plane {100 * _controlSeconds / (_totalSeconds + _controlSeconds):F2}% of the time per step (median heartbeat {heartbeat * 1000:F2} ms)";
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
