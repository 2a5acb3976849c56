using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm status`: the job as the coordinator sees it.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var coordinator = CommonOptions.Coordinator();
        var job = CommonOptions.Job();
        var tokenFile = CommonOptions.TokenFile();
        var command = new Command("status", "Show a job's state, generation, workers (rank, step, heartbeat age) and last committed checkpoint.") { coordinator, job, tokenFile };
        command.SetAction(async (r, ct) =>
        {
            using var client = new JobStatusClient(new JobStatusClientOptions { BaseAddress = r.GetValue(coordinator)!, Job = r.GetValue(job)!, Token = JobToken.Read(r.GetValue(tokenFile)) });
            Print(await client.GetStatusAsync(ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    public static void Print(JobStatusView s)
    {
        Console.WriteLine($"job {s.Job}: {s.State}{(s.StateReason is null ? "" : $" ({s.StateReason})")}; generation {s.Generation}, world size {s.WorldSize}, restarts {s.Restarts}");
        if (s.ControlSilo is { } silo) Console.WriteLine($"control plane on {silo}");
        Console.WriteLine($"last committed checkpoint: {(s.LastCommittedCheckpoint is { } c ? $"step {c.Step} (generation {c.Generation}, {c.CommittedAt:u})" : "none")}");
        Console.WriteLine($"{"worker",-28} {"rank",5} {"state",-9} {"step",7} {"step s",8} {"heartbeat age s",16}");
        foreach (var m in s.Members.OrderBy(m => m.Rank ?? int.MaxValue))
            Console.WriteLine($"{m.WorkerId,-28} {m.Rank?.ToString() ?? "-",5} {m.State,-9} {m.LastStep?.ToString() ?? "-",7} {m.LastStepSeconds?.ToString("F3") ?? "-",8} {m.HeartbeatAgeSeconds?.ToString("F1") ?? "-",16}");
        if (s.Members.FirstOrDefault(m => m.Rank == 0)?.Losses is { Count: > 0 } losses)
            Console.WriteLine("rank 0 losses: " + string.Join("  ", losses.OrderBy(l => l.Key).Select(l => $"{l.Key} {l.Value:F3}")));
    }
}
