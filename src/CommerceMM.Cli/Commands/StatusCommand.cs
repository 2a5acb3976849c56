using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Storage.Blobs;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm status`: the job as the coordinator sees it.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var coordinator = CommonOptions.Coordinator();
        var job = CommonOptions.Job();
        var tokenFile = CommonOptions.TokenFile();
        var command = new Command("status", "Show a job's state, generation, workers (rank, step, heartbeat age) and last committed checkpoint. " +
                                            "Without --coordinator (or CMM_COORDINATOR) it first looks for the `cmm train` or lone `cmm coordinator` running the spec's job from its store on this machine.")
            { spec, set, coordinator, job, tokenFile };
        command.SetAction(async (r, ct) =>
        {
            bool remote = r.GetResult(coordinator) is { Implicit: false } || Environment.GetEnvironmentVariable("CMM_COORDINATOR") is not null;
            (string Job, LocalLaunch? Launch)? local = remote ? null : await FindLocalLaunchAsync(r.GetValue(spec), r.GetValue(set)!, r.GetResult(job) is { Implicit: false } ? r.GetValue(job) : null, ct).ConfigureAwait(false);
            // A `cmm train` recorded the token it made up; a `cmm coordinator`'s is the user's own, from the environment.
            var options = local is { Launch: { Coordinator: { } at } launch }
                ? new JobStatusClientOptions { BaseAddress = at, Job = local.Value.Job, Token = launch.Token ?? JobToken.Read(r.GetValue(tokenFile)) }
                : new JobStatusClientOptions { BaseAddress = r.GetValue(coordinator)!, Job = r.GetValue(job)!, Token = ReadToken(r.GetValue(tokenFile), local?.Job) };
            using var client = new JobStatusClient(options);
            try
            {
                Print(await client.GetStatusAsync(ct).ConfigureAwait(false));
            }
            catch (CoordinatorException e)
            {
                string found = local is { Launch: null } ? $"{NotRunningHere(local.Value.Job)}, and " : "";
                string fix = e.IsUnauthorized ? $"check the job token ({JobToken.Variable} or --token-file)" : "is the job's coordinator running? (--coordinator URL names one elsewhere)";
                throw new ArgumentException($"{found}{e.Message}; {fix}", e);
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The spec's job, and the launch running it on this machine from the spec's store (null when none). A launch on
    /// another host recorded its own loopback address, so only this machine's counts.
    /// </summary>
    private static async Task<(string Job, LocalLaunch? Launch)> FindLocalLaunchAsync(string? specFile, IEnumerable<string> overrides, string? jobOption, CancellationToken cancellationToken)
    {
        var spec = SpecSource.Load(specFile, overrides);
        string job = jobOption ?? spec.Job.Name;
        bool fileStore = spec.Checkpoint.Store.StartsWith(BlobStores.FileScheme, StringComparison.Ordinal);
        if (fileStore && !Directory.Exists(Path.GetFullPath(spec.Checkpoint.Store[BlobStores.FileScheme.Length..]))) return (job, null);
        try
        {
            LocalLaunch? launch = await LocalLaunch.FindAsync(BlobStores.Open(spec.Checkpoint), job, cancellationToken).ConfigureAwait(false);
            return (job, launch is { Host: { } host } && host != Environment.MachineName ? null : launch);
        }
        catch (Exception e) when (e is SpecException or BlobStoreException)
        {
            return (job, null); // Azure settings missing or unreachable here: the coordinator may still be named by address
        }
    }

    /// <summary>The token for a coordinator named by address; with no token, the error also says no local launch was found.</summary>
    private static string ReadToken(string? tokenFile, string? localJob)
    {
        try
        {
            return JobToken.Read(tokenFile);
        }
        catch (ArgumentException e) when (localJob is not null && tokenFile is null)
        {
            throw new ArgumentException($"{NotRunningHere(localJob)}; for a coordinator elsewhere pass --coordinator URL and the job token ({JobToken.Variable} or --token-file)", e);
        }
    }

    private static string NotRunningHere(string job) => $"no `cmm train` or `cmm coordinator` is running job '{job}' from the spec's store on this machine";

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
        bool ended = s.State is JobState.Completed or JobState.Failed or JobState.Stopped;
        yield return $"{"worker",-28} {"rank",5} {"state",-9} {"step",7} {"step s",8} {"heartbeat age s",16}";
        foreach (var m in s.Members.OrderBy(m => m.Rank ?? int.MaxValue))
        {
            string state = ended ? "Exited" : m.State.ToString();
            yield return $"{m.WorkerId,-28} {m.Rank?.ToString() ?? "-",5} {state,-9} {m.LastStep?.ToString() ?? "-",7} {m.LastStepSeconds?.ToString("F3") ?? "-",8} {m.HeartbeatAgeSeconds?.ToString("F1") ?? "-",16}";
        }
        if (s.Members.FirstOrDefault(m => m.Rank == 0)?.Losses is { Count: > 0 } losses)
            yield return "rank 0 losses: " + string.Join("  ", losses.OrderBy(l => l.Key).Select(l => $"{l.Key} {l.Value:F3}"));
    }
}
