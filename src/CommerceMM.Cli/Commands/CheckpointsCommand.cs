using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// `cmm checkpoints list|inspect|validate|export|rollback`: a job's checkpoints as restore sees them, on the file store or
/// Azure. The job and store come from the job spec (checkpoint.store, checkpoint.container, job.name), exactly as
/// for `cmm train`, so with no arguments they read what `cmm train` wrote into runs/.
/// </summary>
internal static class CheckpointsCommand
{
    private const string Latest = "latest", All = "all";

    public static Command Create()
    {
        var command = new Command("checkpoints",
            "List, inspect, validate, export and roll back a job's checkpoints. The store and job come from the job spec (checkpoint.store, checkpoint.container, job.name; " +
            "default: the embedded fashion-tiny job in file:runs); Azure credentials from CMM_AZURE_CONNECTION_STRING or the other CMM_AZURE_* variables.");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CheckpointInspectCommand.Create());
        command.Subcommands.Add(CreateValidate());
        command.Subcommands.Add(CreateExport());
        command.Subcommands.Add(CheckpointRollbackCommand.Create());
        return command;
    }

    public static Option<bool> NoVerify() => new("--no-verify") { Description = "skip reading every file to check its SHA-256 (fast; states show 'committed' instead of 'verified')" };

    /// <summary>--step (or <paramref name="name"/>): a step number, 'latest', and where allowed 'all'; anything else is an error naming the option.</summary>
    public static Option<string> Step(string description, bool allowAll = false, string name = "--step") => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => allowAll ? All : Latest,
        CustomParser = r =>
        {
            string value = r.Tokens.Single().Value;
            if (value == Latest || (allowAll && value == All) || long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return value;
            r.AddError($"{name} '{value}' is not a step number or '{Latest}'{(allowAll ? $" or '{All}'" : "")}");
            return null;
        },
    };

    private static Command CreateList()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var noVerify = NoVerify();
        var command = new Command("list", "Every checkpoint of the job: step, world size, files, size, when, and state: verified (every file's SHA-256 checked), " +
                                          "committed (with --no-verify), or broken with the reason; and which one a restore picks.") { spec, set, noVerify };
        command.SetAction(async (r, ct) =>
        {
            var job = await JobStore.OpenAsync(r.GetValue(spec), r.GetValue(set)!, ct).ConfigureAwait(false);
            var checkpoints = await CheckpointStates.ReadAsync(job.Store, job.Job, !r.GetValue(noVerify), new ConsoleProgress(" KiB", toStandardError: true), ct).ConfigureAwait(false);
            Console.WriteLine($"checkpoints of job '{job.Job}' in {job.Where}; latest: {LatestText(checkpoints)}");
            if (checkpoints.Checkpoints.Count == 0)
            {
                await NoCheckpointsAsync(job, ct).ConfigureAwait(false);
                return 0;
            }
            Console.WriteLine($"{"step",10} {"world",5} {"files",5} {"size",10}  {"created (UTC)",-19}  state");
            foreach (var c in checkpoints.Checkpoints)
            {
                string world = c.Manifest?.WorldSize.ToString(CultureInfo.InvariantCulture) ?? "-";
                string created = c.Manifest?.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
                Console.WriteLine($"{c.Step,10} {world,5} {c.Folder.FileCount,5} {Sizes.Format(c.Folder.Bytes),10}  {created,-19}  {c.Describe()}");
            }
            Console.WriteLine(checkpoints.RestorePick is { } pick
                ? $"restore picks step {pick.Step}"
                : r.GetValue(noVerify) ? "restore picks the newest one that verifies (run without --no-verify to see which)" : "restore finds no usable checkpoint: training would start from scratch");
            foreach (var kept in await CheckpointRollback.ListAsync(job.Store, job.Job, ct).ConfigureAwait(false))
            {
                string steps = $"step{(kept.Steps.Count == 1 ? "" : "s")} {string.Join(", ", kept.Steps)} ({Sizes.Format(kept.Bytes)})";
                Console.WriteLine(kept.Record is { } record
                    ? $"set aside by a rollback under {kept.Folder}: {steps}; {record}"
                    : $"an interrupted rollback's copy under {kept.Folder}: {steps}; nothing moved, delete the folder");
            }
            return 0;
        });
        return command;
    }

    private static Command CreateValidate()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var step = Step("the checkpoint to check: a step, 'latest' (what latest names) or 'all' (every committed one)", allowAll: true);
        var command = new Command("validate", "Check every file of the job's checkpoints against its manifest (size and SHA-256; on Azure also the stored MD5). " +
                                              "Exits 1 naming each broken file, 0 when all match.") { spec, set, step };
        command.SetAction(async (r, ct) =>
        {
            var job = await JobStore.OpenAsync(r.GetValue(spec), r.GetValue(set)!, ct).ConfigureAwait(false);
            var checkpoints = await CheckpointStates.ReadAsync(job.Store, job.Job, verify: false, null, ct).ConfigureAwait(false);
            var chosen = Choose(checkpoints, r.GetValue(step)!, job);
            if (chosen.Count == 0)
            {
                Console.WriteLine($"checkpoints of job '{job.Job}' in {job.Where}: none");
                await NoCheckpointsAsync(job, ct).ConfigureAwait(false);
                return 1;
            }
            long total = chosen.Where(c => c.Manifest is not null).Sum(c => c.Manifest!.TotalBytes), done = 0;
            var progress = new ConsoleProgress(" KiB", toStandardError: true);
            var broken = new List<string>();
            foreach (var c in chosen)
            {
                if (c.Manifest is null || c.Reason?.StartsWith("holds the manifest", StringComparison.Ordinal) == true)
                {
                    // Nothing to check the files against. An interrupted save (no manifest at all) is what a crash leaves and
                    // restore ignores, so it fails only a check asked for by step; an unreadable or foreign manifest always fails.
                    Console.WriteLine($"step-{c.Step}: {c.Describe()}");
                    if (c.Folder.HasManifest || r.GetValue(step) != All) broken.Add($"step-{c.Step}: {c.Reason}");
                    continue;
                }
                var files = await CheckpointFileChecks.RunAsync(job.Store, c.Manifest, bytes => progress.Report(("verify", Interlocked.Add(ref done, bytes) >> 10, total >> 10)), ct).ConfigureAwait(false);
                var after = c.State == CheckpointState.Broken ? c with { Files = files } : CheckpointStates.WithChecks(c, files);
                Console.WriteLine($"step-{c.Step}: {after.Describe()}");
                foreach (var f in files)
                    Console.WriteLine($"  {(f.Problem is null ? "ok" : "BROKEN"),-6} {f.File.Path,-28} {Sizes.Format(f.File.Size),10}  rank {f.File.Rank}{(f.Problem is null ? "" : $"  {f.Problem}")}");
                broken.AddRange(files.Where(f => f.Problem is not null).Select(f => $"step-{c.Step} {f.Problem}"));
            }
            if (broken.Count == 0)
            {
                int checkedCount = chosen.Count(c => c.Manifest is not null);
                Console.WriteLine($"{(checkedCount == 1 ? "the checkpoint" : $"all {checkedCount} checkpoints")} of job '{job.Job}' checked: every file matches its manifest");
                return 0;
            }
            Console.Error.WriteLine($"cmm: {broken.Count} problem{(broken.Count == 1 ? "" : "s")} in the checkpoints of job '{job.Job}':");
            foreach (string b in broken) Console.Error.WriteLine($"  {b}");
            return 1;
        });
        return command;
    }

    private static Command CreateExport()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var step = Step("the checkpoint to export: a step, or 'latest' for the one a restore picks (the newest that verifies)");
        var output = new Option<string>("--out") { Description = "the safetensors file to write (loads in PyTorch: tools/parity/safetensors_io.py, or safetensors.torch.load_file)", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace --out (and the tokenizer file beside it) if they exist" };
        var withoutTeacher = new Option<bool>("--no-teacher") { Description = "leave out CommerceMM's EMA teacher (teacher.*), which only training uses (SCALE has none)" };
        var command = new Command("export", "Write a checkpoint's model weights as one safetensors file (PyTorch state-dict names, float32), " +
                                            "checked against the manifest's SHA-256 first; metadata names the job, step and config hash.")
            { spec, set, step, output, overwrite, withoutTeacher };
        command.SetAction(async (r, ct) =>
        {
            string target = r.GetValue(output)!;
            if (Directory.Exists(target)) throw new ArgumentException($"--out '{target}' is a folder; name the file to write, e.g. --out {Path.Combine(target, "model.safetensors")}");
            if (!r.GetValue(overwrite))
            {
                foreach (string file in (string[])[target, CheckpointExport.TokenizerBeside(target)])
                    if (File.Exists(file)) throw new ArgumentException($"--out '{target}': {file} exists; pass --overwrite to replace it");
            }

            var job = await JobStore.OpenAsync(r.GetValue(spec), r.GetValue(set)!, ct).ConfigureAwait(false);
            CheckpointManifest manifest;
            if (r.GetValue(step) == Latest)
            {
                var selection = await CheckpointCatalog.FindNewestVerifiedAsync(job.Store, job.Job, cancellationToken: ct).ConfigureAwait(false);
                foreach (var s in selection.Skipped) Console.Error.WriteLine($"skipped: {s.Reason}");
                manifest = selection.Checkpoint ?? throw new CheckpointException($"job '{job.Job}' has no checkpoint that verifies in {job.Where}; `cmm checkpoints list` shows why");
            }
            else
            {
                long wanted = long.Parse(r.GetValue(step)!, CultureInfo.InvariantCulture);
                manifest = await CheckpointCatalog.ReadManifestAsync(job.Store, job.Job, wanted, ct).ConfigureAwait(false)
                    ?? throw new CheckpointException($"job '{job.Job}' has no committed checkpoint at step {wanted} in {job.Where}; `cmm checkpoints list` shows the steps");
            }
            var result = await CheckpointExport.RunAsync(job.Store, manifest, target, r.GetValue(withoutTeacher), ct).ConfigureAwait(false);
            Console.WriteLine($"wrote {result.Path}: step {result.Step} of job '{job.Job}', {result.Tensors} tensors, {result.Values:N0} values, {Sizes.Format(result.Bytes)}, sha256 {result.Sha256}");
            Console.WriteLine(result.Tokenizer is { } tokenizer
                ? $"wrote {tokenizer}: the SentencePiece tokenizer whose token ids the model reads (`cmm data build catalog --tokenizer-from` keeps it)"
                : "no tokenizer: this checkpoint was saved by an older cmm; the model reads the token ids of its data set's tokenizer.model");
            return 0;
        });
        return command;
    }

    /// <summary>The checkpoints --step names: all of them, the one latest names (or the newest folder without a pointer), or one step.</summary>
    internal static IReadOnlyList<CheckpointStatus> Choose(JobCheckpoints checkpoints, string step, JobStore job)
    {
        if (step == All) return checkpoints.Checkpoints;
        if (checkpoints.Checkpoints.Count == 0) return [];
        long wanted = step == Latest ? checkpoints.LatestStep ?? checkpoints.Checkpoints[^1].Step : long.Parse(step, CultureInfo.InvariantCulture);
        return [checkpoints.Checkpoints.FirstOrDefault(c => c.Step == wanted)
                ?? throw new CheckpointException($"job '{job.Job}' has no checkpoint folder for step {wanted} in {job.Where} (steps: {string.Join(", ", checkpoints.Checkpoints.Select(c => c.Step))})")];
    }

    internal static string LatestText(JobCheckpoints c) =>
        c.LatestProblem is { } problem ? $"unreadable ({problem})"
        : c.LatestStep is not { } l ? "none (nothing committed yet)"
        : c.LatestSkipSteps > 0 ? $"step {l} (training resumed there first skips the data of {c.LatestSkipSteps} step{(c.LatestSkipSteps == 1 ? "" : "s")}, as a rollback asked)"
        : $"step {l}";

    internal static async Task NoCheckpointsAsync(JobStore job, CancellationToken cancellationToken)
    {
        var others = await job.OtherJobsAsync(cancellationToken).ConfigureAwait(false);
        Console.WriteLine(others.Count > 0
            ? $"no checkpoints of job '{job.Job}' here; jobs with checkpoints in this store: {string.Join(", ", others)} (pick one with --set job.name=NAME)"
            : $"no checkpoints of job '{job.Job}' here, and none of any other job: train first (cmm train), or point at the job's store with --set checkpoint.store=...");
    }
}
