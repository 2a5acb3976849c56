using System.CommandLine;
using System.Diagnostics;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm stop`: ends a job for good at a checkpoint every rank saves; a relaunch resumes it from there.</summary>
internal static class StopCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Repeat = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LaunchExit = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var connection = new JobConnection();
        var now = new Option<bool>("--now") { Description = "stop at once, without that checkpoint: a relaunch trains the steps since the last commit again" };
        var noWait = new Option<bool>("--no-wait") { Description = "return once the stop is asked for, without waiting for the job to stop" };
        var command = new Command("stop",
            "Stop a job: every rank saves a checkpoint and holds there, then the job ends Stopped and its workers exit 0 (a Kubernetes Job " +
            "completes). A relaunch resumes it from that checkpoint: `cmm train` again, or its coordinator restarted. " + JobConnection.FindsTheJob)
            { now, noWait };
        connection.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            using var client = await connection.OpenAsync(r, ct).ConfigureAwait(false);
            JobStatusView status;
            try
            {
                status = await client.StopAsync(r.GetValue(now), ct).ConfigureAwait(false);
                if (!status.HasEnded)
                {
                    Console.WriteLine($"stop asked for: job '{status.Job}' stops once a checkpoint every rank saves commits");
                    if (r.GetValue(noWait)) return 0;
                    try
                    {
                        status = await WaitAsync(client, status, ct).ConfigureAwait(false);
                    }
                    catch (CoordinatorException e)
                    {
                        // A local `cmm train` stops its coordinator with the job: that silence is the stop's end, not a failure.
                        string ended = await connection.LocalLaunchEndedAsync(LaunchExit, ct).ConfigureAwait(false) ?? throw connection.Explain(e);
                        Console.WriteLine(ended);
                        return 0;
                    }
                }
            }
            catch (CoordinatorException e)
            {
                throw connection.Explain(e);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("cmm stop: no longer waiting; the job still stops at its checkpoint (`cmm status` follows it)");
                return 0;
            }
            StatusCommand.Print(status);
            return status.State == JobState.Failed ? 1 : 0;
        });
        return command;
    }

    /// <summary>Follows the stop until the job ends: a line when its progress changes, and every 10 s while it does not.</summary>
    private static async Task<JobStatusView> WaitAsync(JobStatusClient client, JobStatusView status, CancellationToken cancellationToken)
    {
        var since = Stopwatch.StartNew();
        string? last = null;
        while (!status.HasEnded)
        {
            string line = Progress(status);
            if (line != last || since.Elapsed > Repeat)
            {
                Console.WriteLine(line);
                (last, since) = (line, Stopwatch.StartNew());
            }
            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            status = await client.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        }
        return status;
    }

    internal static string Progress(JobStatusView s) =>
        s.PendingCheckpoint is { } c ? $"stopping: checkpoint at step {c.Step}, saved by {c.VotedRanks.Count} of {c.WorldSize} rank(s)"
        : s.RendezvousOpen ? "stopping: the ranks are regrouping; the checkpoint is ordered once they train again"
        : s.LastCheckpointFailure is { } failure ? $"stopping: {failure}; ordering the checkpoint again"
        : "stopping: the checkpoint is ordered on the ranks' next heartbeat";
}
