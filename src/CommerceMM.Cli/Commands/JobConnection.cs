using System.CommandLine;
using CommerceMM.Cli.Hosting;
using CommerceMM.Cli.Launch;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Commands;

/// <summary>
/// How `cmm status` and `cmm stop` reach a job's coordinator: the one named by --coordinator (or CMM_COORDINATOR) with the
/// job token, or else the `cmm train` or `cmm coordinator` (alone or one of several silos) running the spec's job from its store on this machine.
/// </summary>
internal sealed class JobConnection
{
    private readonly Argument<string?> _spec = PathArguments.JobSpec();
    private readonly Option<string[]> _set = CommonOptions.Set();
    private readonly Option<Uri> _coordinator = CommonOptions.Coordinator();
    private readonly Option<string> _job = CommonOptions.Job();
    private readonly Option<string?> _tokenFile = CommonOptions.TokenFile();
    private string? _notRunningHere;
    private (IBlobStore Store, string Job)? _local;

    public const string FindsTheJob = "Without --coordinator (or CMM_COORDINATOR) it first looks for the `cmm train` or `cmm coordinator` running the spec's job from its store on this machine.";

    public void AddTo(Command command)
    {
        command.Arguments.Add(_spec);
        foreach (Option option in new Option[] { _set, _coordinator, _job, _tokenFile }) command.Options.Add(option);
    }

    public async Task<JobStatusClient> OpenAsync(ParseResult r, CancellationToken cancellationToken)
    {
        bool remote = r.GetResult(_coordinator) is { Implicit: false } || Environment.GetEnvironmentVariable("CMM_COORDINATOR") is not null;
        (string Job, LocalLaunch? Launch, IBlobStore? Store)? local = remote ? null : await FindLocalLaunchAsync(r.GetValue(_spec), r.GetValue(_set)!, r.GetResult(_job) is { Implicit: false } ? r.GetValue(_job) : null, cancellationToken).ConfigureAwait(false);
        _notRunningHere = local is { Launch: null } ? NotRunningHere(local.Value.Job) : null;
        _local = local is { Launch.Coordinator: not null, Store: { } store } ? (store, local.Value.Job) : null;
        // A `cmm train` recorded the token it made up; a `cmm coordinator`'s is the user's own, from the environment.
        var options = local is { Launch: { Coordinator: { } at } launch }
            ? new JobStatusClientOptions { BaseAddress = at, Job = local.Value.Job, Token = launch.Token ?? JobToken.Read(r.GetValue(_tokenFile)) }
            : new JobStatusClientOptions { BaseAddress = r.GetValue(_coordinator)!, Job = r.GetValue(_job)!, Token = ReadToken(r.GetValue(_tokenFile), local?.Job) };
        return new JobStatusClient(options);
    }

    /// <summary>A refusal or an unreachable coordinator, as an error that says what to check.</summary>
    public ArgumentException Explain(CoordinatorException e)
    {
        string found = _notRunningHere is { } here ? $"{here}, and " : "";
        string fix = e.IsUnauthorized ? $"check the job token ({JobToken.Variable} or --token-file)"
            : e.ProblemType == ProblemTypes.UnknownJob ? "check the job's name (--job, or job.name in the spec)"
            : "is the job's coordinator running? (--coordinator URL names one elsewhere)";
        return new ArgumentException($"{found}{e.Message}; {fix}", e);
    }

    /// <summary>
    /// The spec's job, and the launch running it on this machine from the spec's store (null when none). A launch on
    /// another host recorded its own loopback address, so only this machine's counts.
    /// </summary>
    private static async Task<(string Job, LocalLaunch? Launch, IBlobStore? Store)> FindLocalLaunchAsync(string? specFile, IEnumerable<string> overrides, string? jobOption, CancellationToken cancellationToken)
    {
        var spec = SpecSource.Load(specFile, overrides);
        string job = jobOption ?? spec.Job.Name;
        bool fileStore = spec.Checkpoint.Store.StartsWith(BlobStores.FileScheme, StringComparison.Ordinal);
        if (fileStore && !Directory.Exists(Path.GetFullPath(spec.Checkpoint.Store[BlobStores.FileScheme.Length..]))) return (job, null, null);
        try
        {
            IBlobStore store = BlobStores.Open(spec.Checkpoint);
            LocalLaunch? launch = await LocalLaunch.FindAsync(store, job, cancellationToken).ConfigureAwait(false);
            return (job, launch is { Host: { } host } && host != Environment.MachineName ? null : launch, store);
        }
        catch (Exception e) when (e is SpecException or BlobStoreException)
        {
            return (job, null, null); // Azure settings missing or unreachable here: the coordinator may still be named by address
        }
    }

    /// <summary>
    /// A local `cmm train` stops its coordinator as its job ends, so its coordinator going silent can be that end: once the
    /// launch has let go of the job (within <paramref name="patience"/>), the store's last commit says where the job
    /// stands. Null when the coordinator was not a local launch's, or the launch still runs.
    /// </summary>
    public async Task<string?> LocalLaunchEndedAsync(TimeSpan patience, CancellationToken cancellationToken)
    {
        if (_local is not { } local) return null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await LocalLaunch.FindAsync(local.Store, local.Job, cancellationToken).ConfigureAwait(false) is not null)
        {
            if (waited.Elapsed > patience) return null;
            await Task.Delay(TimeSpan.FromSeconds(0.5), cancellationToken).ConfigureAwait(false);
        }
        long? step = (await CheckpointCommitter.ReadLatestAsync(local.Store, local.Job, cancellationToken).ConfigureAwait(false))?.Pointer.Step;
        return $"the `cmm train` of job '{local.Job}' has ended, and its coordinator with it; last committed checkpoint: {(step is { } at ? $"step {at.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "none")}";
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
}
