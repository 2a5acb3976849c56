using System.Diagnostics;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Worker.Models;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The launcher's periodic view of a local job: step, throughput, workers, last checkpoint and every
/// task loss of the job's model (rank 0's last step). Plain lines, so it reads the same in a terminal and in a CI log.
/// </summary>
internal sealed class LiveView(TrainingSpec spec)
{
    private readonly IModelKind _kind = ModelKinds.For(spec.Model);
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastStep = -1;
    private double _lastSeconds;

    public void Print(JobStatusView s)
    {
        long step = s.Members.Max(m => m.LastStep) ?? 0;
        double now = _clock.Elapsed.TotalSeconds;
        string rate = "";
        if (_lastStep >= 0 && step > _lastStep && now > _lastSeconds)
        {
            // Every stream, every rank: world size × batch rows per stream per step.
            double samples = (step - _lastStep) * _kind.Streams.Count * Math.Max(1, s.WorldSize) * spec.Data.BatchSize;
            rate = $", {samples / (now - _lastSeconds):F0} samples/s";
        }
        (_lastStep, _lastSeconds) = (step, now);
        int running = s.Members.Count(m => m.State == MemberState.Running);
        Console.WriteLine($"[cmm train] {s.State} step {step}/{s.MaxSteps}{rate}; generation {s.Generation}, {running}/{s.Members.Count} workers running; " +
                          $"last checkpoint {s.LastCommittedCheckpoint?.Step.ToString() ?? "none"}");
        if (s.Members.FirstOrDefault(m => m.Rank == 0)?.Losses is { Count: > 0 } losses)
            Console.WriteLine("[cmm train] losses " + string.Join(" ", _kind.TaskIds.Select(t => losses.TryGetValue(t, out double v) ? $"{t}={v:F3}" : $"{t}=-")));
    }
}
