using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Tests;

/// <summary>`cmm checkpoints rollback` on a real job's store, then `cmm train` resuming from the step it went back to.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class CheckpointRollbackCommandTests(SmallCorpus corpus, TrainedJob trained) : IClassFixture<TrainedJob>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly string _scratch = Directory.CreateTempSubdirectory("cmm-e2e-rollback-").FullName;

    [Fact]
    public async Task Rollback_MovesLatestBackAndKeepsTheStepsAbove_ThenTrainResumesThere_AndCommitsThemAgain()
    {
        string runs = trained.Copy(corpus, Path.Combine(_scratch, "runs"));
        var store = new FileBlobStore(runs);
        string[] job = TrainingArgs.Overrides(TrainedJob.Name, corpus.Directory, runs, steps: 6, batch: 4, every: 2);
        var extended = Cmm(["train", "--workers", "2", .. job]); // committed: step 4 (generation 1), step 6 (generation 2)
        Assert.True(extended.Exit == 0, extended.Output);

        var dry = Cmm(["checkpoints", "rollback", "--step", "4", "--dry-run", .. job]);
        Assert.True(dry.Exit == 0, dry.Output);
        Assert.Contains("rolling back to step 4 (generation 1, world size 2, created ", dry.Output);
        Assert.Contains("setting aside: step 6 (", dry.Output);
        Assert.Contains("dry run: nothing was changed", dry.Output);
        Assert.Equal(6, (await CheckpointCommitter.ReadLatestAsync(store, TrainedJob.Name))!.Value.Pointer.Step);

        // A rollback to the wrong step, undone; then the one meant.
        Assert.Equal(0, Cmm(["checkpoints", "rollback", "--step", "4", .. job]).Exit);
        var undo = Cmm(["checkpoints", "rollback", "--undo", .. job]);
        Assert.True(undo.Exit == 0, undo.Output);
        Assert.Contains("latest names step 6 again (step 6 is back, and no data is skipped)", undo.Output);
        Assert.Equal(6, (await CheckpointCatalog.FindNewestVerifiedAsync(store, TrainedJob.Name)).Checkpoint!.Step);
        Assert.Empty(await CheckpointRollback.ListAsync(store, TrainedJob.Name));

        var rollback = Cmm(["checkpoints", "rollback", "--step", "4", "--skip-steps", "1", "--reason", "loss spiked at step 5", .. job]);
        Assert.True(rollback.Exit == 0, rollback.Output);
        Assert.Contains("latest now names step 4: the next launch trains on from there", rollback.Output);
        Assert.Contains($"step 6 is kept under {TrainedJob.Name}/rolled-back/", rollback.Output);
        Assert.Matches(@"verify: 100 % \([\d,]+/[\d,]+ KiB\)", rollback.Output); // progress, one line a tenth when not on a terminal
        Assert.Matches(@"copy: 100 % \([\d,]+/[\d,]+ KiB\)", rollback.Output);
        var list = Cmm(["checkpoints", "list", .. job]);
        Assert.Contains("latest: step 4 (training resumed there first skips the data of 1 step, as a rollback asked)", list.Output);
        Assert.Matches($@"set aside by a rollback under {TrainedJob.Name}/rolled-back/\d{{8}}T\d{{6}}Z/: step 6 \([\d.]+ MiB\); " +
                       @"rolled back \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC from step 6 to step 4, skipping the data of 1 step: loss spiked at step 5", list.Output);

        var train = Cmm(["train", "--workers", "2", .. job]);
        Assert.True(train.Exit == 0, train.Output);
        Assert.Matches(@"latest was rolled back \S+ \S+ UTC from step 6 to step 4, skipping the data of 1 step: loss spiked at step 5 \(cmm checkpoints rollback\)", train.Output);
        Assert.Contains("restoring checkpoint step 4", train.Output);
        Assert.Contains("skipping the data of 1 step(s) after it (8 samples per stream), as the rollback to it asked", train.Output);
        Assert.Contains("checkpoint at step 6 committed (generation 3)", train.Output);
        Assert.Equal(3, (await CheckpointCatalog.FindNewestVerifiedAsync(store, TrainedJob.Name)).Checkpoint!.Generation);
        RolledBackCheckpoints kept = Assert.Single(await CheckpointRollback.ListAsync(store, TrainedJob.Name));
        Assert.Equal([6L], kept.Steps);
        // Step 6 again, one step's data (2 ranks x batch 4) further on in every stream than the step 6 that was rolled back.
        var before = await DataPositionsAsync(store, $"{kept.Folder}step-6/");
        var after = await DataPositionsAsync(store, CheckpointLayout.StepFolder(TrainedJob.Name, 6));
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (stream, samples) in before) Assert.Equal(samples + 8, after[stream]);
        var late = Cmm(["checkpoints", "rollback", "--undo", .. job]);
        Assert.Equal(2, late.Exit);
        Assert.Contains("cannot be undone: latest names step 6, not step 4, so checkpoints were committed since", late.Output);
    }

    /// <summary>Each stream's samples consumed since the first epoch began, from rank 0's state in a step folder.</summary>
    private static async Task<Dictionary<string, long>> DataPositionsAsync(FileBlobStore store, string folder)
    {
        await using var download = await store.OpenReadAsync(folder + "rank-00000/" + RankState.FileName);
        using var bytes = new MemoryStream();
        await download!.Content.CopyToAsync(bytes);
        return RankState.Parse(bytes.ToArray(), folder).Streams.ToDictionary(s => s.Key, s => s.Value.Epoch * s.Value.Samples + s.Value.Consumed);
    }

    [Fact]
    public async Task Rollback_WhileTheJobRuns_OrToNoCommittedStep_IsRefused_AndChangesNothing()
    {
        string runs = trained.Copy(corpus, Path.Combine(_scratch, "runs"));
        string[] job = ["--set", $"job.name={TrainedJob.Name}", "--set", $"checkpoint.store=file:{runs}"];
        var store = new FileBlobStore(runs);
        using (await LocalLaunch.TakeAsync(store, SpecSource.Load(null, [.. job.Where((_, i) => i % 2 == 1)]), "cmm train", CancellationToken.None))
        {
            var refused = Cmm(["checkpoints", "rollback", "--step", "3", .. job]);
            Assert.Equal(2, refused.Exit);
            Assert.Contains($"cmm: job '{TrainedJob.Name}' is running (cmm train, pid {Environment.ProcessId}): stop it first (`cmm stop`), then roll back", refused.Output);
        }

        using (await LocalLaunch.TakeSiloAsync(store, SpecSource.Load(null, [.. job.Where((_, i) => i % 2 == 1)]), CancellationToken.None))
        {
            var refused = Cmm(["checkpoints", "rollback", "--step", "3", .. job]);
            Assert.Equal(2, refused.Exit);
            Assert.Contains($"cmm: job '{TrainedJob.Name}' has a multi-silo control plane up (cmm coordinator, pid {Environment.ProcessId}, since ", refused.Output);
            Assert.Contains("): stop every silo first", refused.Output);
        }

        Assert.Equal(4, (await CheckpointCommitter.ReadLatestAsync(store, TrainedJob.Name))!.Value.Pointer.Step);
        Assert.Empty(await CheckpointRollback.ListAsync(store, TrainedJob.Name));
        var unknown = Cmm(["checkpoints", "rollback", "--step", "3", .. job]);
        Assert.Equal(2, unknown.Exit);
        Assert.Contains($"job '{TrainedJob.Name}' has no committed checkpoint at step 3 (committed steps: 4)", unknown.Output);
        Assert.Contains("cmm: --step -1 is no step: steps count from 0", Cmm(["checkpoints", "rollback", "--step", "-1", .. job]).Output);
        Assert.Contains("cmm: --skip-steps -3 is negative: give 0 (the default) or more", Cmm(["checkpoints", "rollback", "--step", "2", "--skip-steps", "-3", .. job]).Output);
        Assert.Contains("cmm: give --step STEP, the committed checkpoint to go back to", Cmm(["checkpoints", "rollback", .. job]).Output);
        Assert.Contains("cmm: --undo undoes the newest rollback as it was: give it without --step", Cmm(["checkpoints", "rollback", "--undo", "--step", "2", .. job]).Output);
        var otherJob = Cmm(["checkpoints", "rollback", "--step", "2", .. job, "--set", "job.name=nope"]);
        Assert.Equal(1, otherJob.Exit);
        Assert.Contains($"jobs with checkpoints in this store: {TrainedJob.Name}", otherJob.Output);
    }

    private static (int Exit, string Output) Cmm(string[] args)
    {
        using var cmm = new CmmProcess(args);
        int exit = cmm.WaitForExit(Patience);
        return (exit, cmm.Output);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);
}
