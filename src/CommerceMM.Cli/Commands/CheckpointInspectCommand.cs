using System.CommandLine;
using System.Globalization;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Inspection;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Commands;

/// <summary>`cmm checkpoints inspect`: one checkpoint in full: its manifest, every file (checked), the weights' shape and each rank's state.</summary>
internal static class CheckpointInspectCommand
{
    public static Command Create()
    {
        var spec = PathArguments.JobSpec();
        var set = CommonOptions.Set();
        var step = CheckpointsCommand.Step("the checkpoint: a step, or 'latest' (what latest names; the newest folder when nothing is committed)");
        var noVerify = CheckpointsCommand.NoVerify();
        var command = new Command("inspect", "Show one checkpoint: manifest (job, step, generation, world size, config hash, code version), every file with size, " +
                                             "rank and check, the model's tensors, the optimizer step, and each rank's state (step, data positions).") { spec, set, step, noVerify };
        command.SetAction(async (r, ct) =>
        {
            var job = await JobStore.OpenAsync(r.GetValue(spec), r.GetValue(set)!, ct).ConfigureAwait(false);
            var checkpoints = await CheckpointStates.ReadAsync(job.Store, job.Job, verify: false, null, ct).ConfigureAwait(false);
            var c = CheckpointsCommand.Choose(checkpoints, r.GetValue(step)!, job).SingleOrDefault();
            if (c is null)
            {
                Console.WriteLine($"checkpoints of job '{job.Job}' in {job.Where}: none");
                await CheckpointsCommand.NoCheckpointsAsync(job, ct).ConfigureAwait(false);
                return 1;
            }
            if (c.Manifest is { } m && c.State == CheckpointState.Committed && !r.GetValue(noVerify))
                c = CheckpointStates.WithChecks(c, await CheckpointFileChecks.RunAsync(job.Store, m, null, ct).ConfigureAwait(false));
            await PrintAsync(job, checkpoints, c, ct).ConfigureAwait(false);
            return c.State == CheckpointState.Broken ? 1 : 0;
        });
        return command;
    }

    private static async Task PrintAsync(JobStore job, JobCheckpoints all, CheckpointStatus c, CancellationToken ct)
    {
        Console.WriteLine($"checkpoint step-{c.Step} of job '{job.Job}' in {job.Where}");
        // Restore tries committed checkpoints newest first: this one is its pick if it verifies and no newer candidate comes first.
        bool picked = c.State == CheckpointState.Verified
                      && !all.Checkpoints.Any(o => o.Step > c.Step && o.State == CheckpointState.Committed && (all.LatestStep is null || o.Step <= all.LatestStep));
        Row("state", c.Describe() + (picked ? " (restore picks it)" : ""));
        Row("latest", CheckpointsCommand.LatestText(all));
        if (c.Manifest is not { } m)
        {
            Row("files", $"{c.Folder.FileCount} ({Sizes.Format(c.Folder.Bytes)}), no manifest to check them against");
            return;
        }
        Row("format", m.FormatVersion.ToString(CultureInfo.InvariantCulture));
        Row("generation", m.Generation.ToString(CultureInfo.InvariantCulture));
        Row("world size", m.WorldSize.ToString(CultureInfo.InvariantCulture));
        Row("config hash", m.ConfigHash);
        Row("code version", m.CodeVersion);
        Row("created (UTC)", m.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        Row("size", $"{Sizes.Format(m.TotalBytes)} in {m.Files.Count} files");

        Console.WriteLine();
        Console.WriteLine($"  {"file",-28} {"rank",4} {"bytes",14}  {"sha256",-16}  check");
        foreach (var f in m.Files)
        {
            var check = c.Files?.FirstOrDefault(x => x.File.Path == f.Path);
            string state = check is null ? "not checked" : check.Problem ?? "ok";
            Console.WriteLine($"  {f.Path,-28} {f.Rank,4} {f.Size,14:N0}  {f.Sha256[..16]}  {state}");
        }

        // The contents only where they can be trusted: unchecked (--no-verify) or checked and intact.
        bool readable(string path) => c.Files?.FirstOrDefault(x => x.File.Path == path)?.Problem is null && m.Files.Any(f => f.Path == path);
        Console.WriteLine();
        if (readable(CheckpointFiles.Model)) await PrintWeightsAsync(job.Store, m, ct).ConfigureAwait(false);
        if (readable(CheckpointFiles.Optimizer)) await PrintOptimizerAsync(job.Store, m, ct).ConfigureAwait(false);
        var ranks = m.Files.Where(f => f.Path.EndsWith("/" + RankState.FileName, StringComparison.Ordinal)).ToList();
        if (ranks.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine($"  {"rank file",-28} {"step",8} {"skipped",8} {"world",6}  data positions (epoch: consumed/samples)");
        string? tokenizer = null;
        foreach (var f in ranks)
        {
            if (!readable(f.Path))
            {
                Console.WriteLine($"  {f.Path,-28} (broken, not read)");
                continue;
            }
            var state = RankState.Parse(await CheckpointCatalog.ReadFileAsync(job.Store, m, f.Path, ct).ConfigureAwait(false), f.Path);
            string streams = string.Join(", ", state.Streams.Values.Select(p => $"{p.Stream} {p.Epoch}: {p.Consumed:N0}/{p.Samples:N0}"));
            Console.WriteLine($"  {f.Path,-28} {state.Step,8} {state.SkippedSteps,8} {state.WorldSize,6}  {streams}");
            tokenizer ??= state.TokenizerSha256;
        }
        // What `cmm train` compares with the data set's dataset.json before it resumes.
        Console.WriteLine($"  trained with the data set's tokenizer of SHA-256 {tokenizer ?? "(not recorded: saved by an older cmm)"}");
    }

    private static async Task PrintWeightsAsync(IBlobStore store, CheckpointManifest m, CancellationToken ct)
    {
        using var weights = SafeTensors.Read(new MemoryStream(await CheckpointCatalog.ReadFileAsync(store, m, CheckpointFiles.Model, ct).ConfigureAwait(false)), CheckpointFiles.Model);
        var byDtype = weights.Tensors.GroupBy(t => t.Tensor.dtype.ToString().ToLowerInvariant()).Select(g => $"{g.Key} {g.Sum(t => t.Tensor.numel()):N0}");
        var groups = weights.Tensors.GroupBy(t => t.Name.Split('.')[0]).Select(g => $"{g.Key} ({g.Count()})");
        Row("model", $"{weights.Tensors.Count} tensors, {weights.Tensors.Sum(t => t.Tensor.numel()):N0} values ({string.Join(", ", byDtype)})");
        Row("modules", string.Join(", ", groups));
    }

    private static async Task PrintOptimizerAsync(IBlobStore store, CheckpointManifest m, CancellationToken ct)
    {
        using var optimizer = SafeTensors.Read(new MemoryStream(await CheckpointCatalog.ReadFileAsync(store, m, CheckpointFiles.Optimizer, ct).ConfigureAwait(false)), CheckpointFiles.Optimizer);
        string step = optimizer.Metadata.TryGetValue("adamw.step", out var s) ? $"AdamW step {s}, " : "";
        Row("optimizer", $"{step}{optimizer.Tensors.Count} moment tensors");
    }

    private static void Row(string name, string value) => Console.WriteLine($"{name,-14} {value}");
}
