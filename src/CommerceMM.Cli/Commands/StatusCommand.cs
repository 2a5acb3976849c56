using System.CommandLine;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm status`: the job as the coordinator sees it.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var connection = new JobConnection();
        var command = new Command("status", "Show a job's state, generation, workers (rank, step, heartbeat age) and last committed checkpoint. " + JobConnection.FindsTheJob);
        connection.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            using var client = await connection.OpenAsync(r, ct).ConfigureAwait(false);
            try
            {
                Print(await client.GetStatusAsync(ct).ConfigureAwait(false));
            }
            catch (CoordinatorException e)
            {
                throw connection.Explain(e);
            }
            return 0;
        });
        return command;
    }

    public static void Print(JobStatusView s)
    {
        foreach (string line in Lines(s)) Console.WriteLine(line);
    }

    /// <summary>What <see cref="Print"/> writes. Members of an ended job show as exited: their last heartbeat said running.</summary>
    internal static IEnumerable<string> Lines(JobStatusView s)
    {
        yield return $"job {s.Job}: {s.State}{(s.StateReason is null ? "" : $" ({s.StateReason})")}; generation {s.Generation}, world size {s.WorldSize}, restarts {s.Restarts}";
        if (s.ControlSilo is { } silo) yield return $"control plane on {silo}";
        yield return $"last committed checkpoint: {(s.LastCommittedCheckpoint is { } c ? $"step {c.Step} (generation {c.Generation}, {c.CommittedAt:u})" : "none")}";
        if (s.LastCheckpointFailure is { } failure) yield return $"last checkpoint failure: {failure}";
        if (s.StopRequested)
            yield return $"stop requested: the job stops once {(s.PendingCheckpoint is { } stop ? $"the checkpoint at step {stop.Step}" : "its next checkpoint")} commits";
        yield return $"{"worker",-28} {"rank",5} {"state",-9} {"step",7} {"step s",8} {"heartbeat age s",16}";
        foreach (var m in s.Members.OrderBy(m => m.Rank ?? int.MaxValue))
        {
            string state = s.HasEnded ? "Exited" : m.State.ToString();
            yield return $"{m.WorkerId,-28} {m.Rank?.ToString() ?? "-",5} {state,-9} {m.LastStep?.ToString() ?? "-",7} {m.LastStepSeconds?.ToString("F3") ?? "-",8} {m.HeartbeatAgeSeconds?.ToString("F1") ?? "-",16}";
        }
        if (s.Members.FirstOrDefault(m => m.Rank == 0)?.Losses is { Count: > 0 } losses)
            yield return "rank 0 losses: " + string.Join("  ", losses.OrderBy(l => l.Key).Select(l => $"{l.Key} {l.Value:F3}"));
    }
}
