using CommerceMM.Coordinator.Contracts;
using CommerceMM.Worker.Models;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The launcher's periodic view of a local job: step, throughput, workers, last checkpoint and every
/// task loss of the job's model (rank 0's last step). Plain lines, so it reads the same in a terminal and in a CI log.
/// </summary>
/// <param name="time">the clock of the throughput; the system's by default</param>
internal sealed class LiveView(TrainingSpec spec, TimeProvider? time = null)
{
    private readonly IModelKind _kind = ModelKinds.For(spec.Model);
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _lastStep = -1;
    private DateTimeOffset _lastTime;

    /// <summary>The job's step: its furthest rank's, or between generations (no member has reported one yet) the last commit, where they resume.</summary>
    public static long StepOf(JobStatusView s) => s.Members.Max(m => m.LastStep) ?? s.LastCommittedCheckpoint?.Step ?? 0;

    public void Print(JobStatusView s)
    {
        foreach (string line in Next(s)) Console.WriteLine(line);
    }

    /// <summary>The lines for this status; the throughput is over the steps since the previous call.</summary>
    public IReadOnlyList<string> Next(JobStatusView s)
    {
        long step = StepOf(s);
        var now = _time.GetUtcNow();
        string rate = "";
        if (_lastStep >= 0 && step > _lastStep && now > _lastTime)
        {
            // Every stream, every rank: world size × batch rows per stream per step.
            double samples = (step - _lastStep) * _kind.Streams.Count * Math.Max(1, s.WorldSize) * spec.Data.BatchSize;
            rate = $", {samples / (now - _lastTime).TotalSeconds:F0} samples/s";
        }
        (_lastStep, _lastTime) = (step, now);
        int running = s.Members.Count(m => m.State == MemberState.Running);
        List<string> lines = [$"[cmm train] {s.State} step {step}/{s.MaxSteps}{rate}; generation {s.Generation}, {running}/{s.Members.Count} workers running; " +
                                     $"last checkpoint {s.LastCommittedCheckpoint?.Step.ToString() ?? "none"}" +
                                     (s.StopRequested ? $"; stopping (cmm stop) at {(s.PendingCheckpoint is { } stop ? $"step {stop.Step}" : "the next checkpoint")}" : "")];
        if (s.Members.FirstOrDefault(m => m.Rank == 0)?.Losses is { Count: > 0 } losses)
            lines.Add("[cmm train] losses " + string.Join(" ", _kind.TaskIds.Select(t => losses.TryGetValue(t, out double v) ? $"{t}={v:F3}" : $"{t}=-")));
        return lines;
    }
}
