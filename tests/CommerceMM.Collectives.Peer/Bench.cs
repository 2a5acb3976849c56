using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives.Peer;

/// <summary>The same measurement as tools/bench/engine.py's allreduce_ms: barrier, then one timed all-reduce; the median.</summary>
internal static class Bench
{
    internal static List<(string, Tensor)> AllReduce(ProcessGroup group, long elements, int reps)
    {
        var t = torch.ones(elements);
        var times = new List<double>();
        for (int i = 0; i < reps + 2; i++) // two warm-up rounds, as the PyTorch side
        {
            var watch = Stopwatch.StartNew();
            group.Barrier();
            group.AllReduce(t);
            if (i >= 2) times.Add(watch.Elapsed.TotalMilliseconds);
        }
        group.Barrier();
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        if (group.Rank == 0) Console.WriteLine($"allreduce_ms {median:F3}");
        return [("median_ms", torch.tensor(new[] { median })), ("times_ms", torch.tensor(times.ToArray()))];
    }
}
