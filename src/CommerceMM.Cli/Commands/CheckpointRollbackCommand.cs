using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;
using CommerceMM.Cli.Launch;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// `cmm checkpoints rollback`: the job goes back to an earlier committed checkpoint, which the next launch restores; the
/// checkpoints above it are kept aside, not deleted (<see cref="CheckpointRollback"/>).
/// </summary>
internal static class CheckpointRollbackCommand
{
    public static Command Create()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var step = new Option<long?>("--step") { Description = "the committed checkpoint to go back to (`cmm checkpoints list` shows them)" };
        NumberOptions.RefuseNegative(step, "is no step: steps count from 0");
        var reason = new Option<string>("--reason") { Description = "why, kept beside the checkpoints set aside (e.g. \"loss diverged at step 5200\")", DefaultValueFactory = _ => "no reason given" };
        var skip = new Option<long>("--skip-steps")
        {
            Description = "then skip the data of this many steps (data.batch_size × the workers that resume, per stream) when training resumes there: " +
                          "the batches that came after the checkpoint, if they made the loss diverge. The step count and schedule go on from the checkpoint",
        };
        NumberOptions.RefuseNegative(skip, "is negative: give 0 (the default) or more");
        var dryRun = new Option<bool>("--dry-run") { Description = "say what would move, and change nothing" };
        var undo = new Option<bool>("--undo") { Description = "undo the newest rollback, while nothing has been committed since: its checkpoints go back, and latest names the step it named before" };
        var command = new Command("rollback", "Go back to an earlier committed checkpoint: latest names it, so the next launch (`cmm train`, or the coordinator started again) " +
                                              "trains on from there. The checkpoints above it move to JOB/rolled-back/STAMP/ in the same store, kept as they were (--undo puts them back). " +
                                              "Refused while the job runs (stop it first: `cmm stop`).") { spec, set, step, reason, skip, dryRun, undo };
        command.SetAction(async (r, ct) =>
        {
            // Checked here, once every value parsed: a command validator's error would hide an option's parse error.
            bool Given(Option option) => r.GetResult(option) is { Implicit: false };
            if (Given(undo) && (Given(step) || Given(reason) || Given(skip) || Given(dryRun)))
                throw new ArgumentException("--undo undoes the newest rollback as it was: give it without --step, --reason, --skip-steps or --dry-run");
            if (!Given(undo) && !Given(step))
                throw new ArgumentException("give --step STEP, the committed checkpoint to go back to (`cmm checkpoints list` shows them), or --undo");
            var job = await JobStore.OpenAsync(r.GetValue(spec), r.GetValue(set)!, ct).ConfigureAwait(false);
            if (await LocalLaunch.FindAsync(job.Store, job.Job, ct).ConfigureAwait(false) is { } running)
                throw new ArgumentException(running.Silo
                    // A running silo's ledger would still hold the commits set aside, and refuse the steps trained again.
                    ? $"job '{job.Job}' has a multi-silo control plane up ({running.Describe()}): " +
                      "stop every silo first (on Kubernetes, scale the coordinator Deployment to 0; the job's state stays in the store), then roll back"
                    : $"job '{job.Job}' is running ({running.Command}, pid {running.Pid}): stop it first (`cmm stop`), then roll back");
            // Held throughout, so no coordinator starts and commits while latest moves.
            using var claim = await LocalLaunch.TakeAsync(job.Store, job.Spec, "cmm checkpoints rollback", ct).ConfigureAwait(false);
            if (r.GetValue(undo)) return await UndoAsync(job, ct).ConfigureAwait(false);
            if (await CheckpointCommitter.ReadLatestAsync(job.Store, job.Job, ct).ConfigureAwait(false) is null)
            {
                Console.WriteLine($"job '{job.Job}' in {job.Where} has no committed checkpoint: there is nothing to roll back");
                await CheckpointsCommand.NoCheckpointsAsync(job, ct).ConfigureAwait(false);
                return 1;
            }

            var plan = await CheckpointRollback.PlanAsync(job.Store, job.Job, r.GetValue(step)!.Value, ct).ConfigureAwait(false);
            var target = plan.Target;
            Console.WriteLine($"job '{job.Job}' in {job.Where}: latest names step {plan.FromStep}");
            Console.WriteLine($"rolling back to step {target.Step} (generation {target.Generation}, world size {target.WorldSize}, " +
                              $"created {target.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)");
            Console.WriteLine($"setting aside: {string.Join(", ", plan.Moving.Select(m => $"step {m.Step} ({Sizes.Format(m.Bytes)})"))}");
            long skipSteps = r.GetValue(skip);
            if (skipSteps > 0) Console.WriteLine($"training resumed there first skips the data of {skipSteps} step{(skipSteps == 1 ? "" : "s")}");
            if (r.GetValue(dryRun))
            {
                Console.WriteLine("dry run: nothing was changed");
                return 0;
            }

            var result = await CheckpointRollback.RunAsync(job.Store, plan, r.GetValue(reason)!, skipSteps, TimeProvider.System, new InKiB(), ct).ConfigureAwait(false);
            Console.WriteLine($"latest now names step {result.Step}: the next launch trains on from there (`cmm train`, or the job's coordinator started again)");
            Console.WriteLine($"{StepsAre(result.Kept)} kept under {result.Folder} in {job.Where} " +
                              "(`cmm checkpoints list` shows them; `--undo` puts them back while nothing is committed; delete the folder when no longer needed)");
            return 0;
        });
        return command;
    }

    private static async Task<int> UndoAsync(JobStore job, CancellationToken ct)
    {
        var (record, folder) = await CheckpointRollback.UndoAsync(job.Store, job.Job, new InKiB(), ct).ConfigureAwait(false);
        Console.WriteLine($"undid the rollback under {folder} ({record})");
        Console.WriteLine($"latest names step {record.FromStep} again ({StepsAre(record.Steps)} back, and no data is skipped): " +
                          "the next launch trains on from there");
        return 0;
    }

    /// <summary>"step 6 is" or "steps 6, 8 are".</summary>
    private static string StepsAre(IReadOnlyList<long> steps) =>
        steps.Count == 1 ? $"step {steps[0]} is" : $"steps {string.Join(", ", steps)} are";

    /// <summary>The library's bytes as a progress bar in KiB, on standard error.</summary>
    private sealed class InKiB : IProgress<(string Stage, long Bytes, long Total)>
    {
        private readonly ConsoleProgress _bar = new(" KiB", toStandardError: true);

        public void Report((string Stage, long Bytes, long Total) value) => _bar.Report((value.Stage, value.Bytes >> 10, value.Total >> 10));
    }
}
