using System.Globalization;
using System.Text.Json;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The control plane of a job: a `cmm train`, or a `cmm coordinator` (alone, or one silo of several). It is recorded with
/// the store's owner lock: its process and host, and once it listens, its coordinator's address, so that `cmm status` in
/// another terminal needs no options. A `cmm train` also records the job token it made up (a `cmm coordinator`'s token is
/// the user's, read from the environment, and is not copied).
/// </summary>
/// <param name="Command">"cmm train", "cmm coordinator" or "cmm checkpoints rollback"</param>
/// <param name="Silo">one silo of a multi-silo control plane, which shares the job with the others</param>
internal sealed record LocalLaunch(string Command, int Pid, DateTime Since, Uri? Coordinator = null, string? Token = null, string? Host = null, bool Silo = false)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Takes the job for this process alone. A second control plane would run its own grains on the same state: the
    /// state's ETags keep it consistent, but two sets of workers would train the job twice over and fail each other's
    /// commits. A rollback takes it too, so that nothing commits while latest moves. The silos of a multi-silo control
    /// plane share the job (<see cref="TakeSiloAsync"/>), and while any runs, nobody takes it alone.
    /// On a file store the lock is a <c>flock</c> (one host); on Azure a blob lease, which holds across hosts.
    /// </summary>
    /// <param name="waitForLapse">
    /// On Azure, how long to keep trying while another holds the job: a coordinator rescheduled after its node died finds
    /// the dead one's lease, which lapses within a minute, and waiting beats a crash loop. Zero refuses at once.
    /// </param>
    /// <exception cref="ArgumentException">Another process holds the job; the message names it.</exception>
    public static Task<IStoreOwnerLock> TakeAsync(IBlobStore store, TrainingSpec spec, string command, CancellationToken cancellationToken, TimeSpan waitForLapse = default) =>
        ClaimAsync(store, spec, This(command), JobLock(spec.Job.Name), cancellationToken, waitForLapse);

    /// <summary>
    /// Takes a share of the job for one silo of a multi-silo control plane: refused while a process holds the job alone,
    /// and while it holds a share, nobody can (<see cref="TakeAsync"/>).
    /// </summary>
    /// <remarks>It also deletes the claims that killed silos of the job left: a minute after their end, nobody holds them.</remarks>
    /// <exception cref="ArgumentException">Another process holds the job alone; the message names it.</exception>
    public static async Task<IStoreOwnerLock> TakeSiloAsync(IBlobStore store, TrainingSpec spec, CancellationToken cancellationToken, TimeSpan waitForLapse = default)
    {
        string prefix = SiloPrefix(spec.Job.Name);
        IStoreOwnerLock taken = await ClaimAsync(store, spec, This("cmm coordinator", silo: true), $"{prefix}{Guid.NewGuid():N}", cancellationToken, waitForLapse).ConfigureAwait(false);
        try
        {
            int pruned = store switch
            {
                FileBlobStore files => StoreOwnerLock.PruneUnheld(files, prefix, KilledSiloClaimAge),
                AzureBlobStore azure => await azure.PruneUnheldOwnersAsync(prefix, KilledSiloClaimAge, cancellationToken).ConfigureAwait(false),
                _ => 0,
            };
            if (pruned > 0) Console.WriteLine($"removed the claims of {pruned} silo(s) of job '{spec.Job.Name}' that were killed");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Tidying only (BlobStoreException is an IOException): the claim is taken, and the next silo tries again.
            Console.WriteLine($"could not remove the claims killed silos of job '{spec.Job.Name}' left: {e.Message}");
        }
        return taken;
    }

    /// <summary>How old an unheld silo claim must be to go: a new silo takes its claim within moments of writing it.</summary>
    internal static readonly TimeSpan KilledSiloClaimAge = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Each claimant takes its own lock before it looks for the other kind's, so of a silo and a lone claimant starting
    /// at once, at least one sees the other and lets go: both may be refused, never both taken.
    /// </summary>
    private static async Task<IStoreOwnerLock> ClaimAsync(IBlobStore store, TrainingSpec spec, LocalLaunch me, string name, CancellationToken cancellationToken, TimeSpan waitForLapse)
    {
        string job = spec.Job.Name;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            (IStoreOwnerLock? taken, string? owner) = store switch
            {
                FileBlobStore files => (StoreOwnerLock.TryTake(files, name, me.ToJson(), out string? current, forgetOnRelease: me.Silo), current),
                AzureBlobStore azure => await azure.TryTakeOwnerAsync(name, me.ToJson(), cancellationToken, forgetOnRelease: me.Silo).ConfigureAwait(false),
                _ => throw new ArgumentException($"no owner lock for a {store.GetType().Name}"),
            };
            IReadOnlyList<LocalLaunch> others = taken is null ? [Parse(owner) ?? Unknown]
                : me.Silo ? await FindAloneAsync(store, job, cancellationToken).ConfigureAwait(false) is { } alone ? [alone] : []
                : await FindSilosAsync(store, job, cancellationToken).ConfigureAwait(false);
            if (others.Count == 0) return taken!;
            taken?.Dispose();

            string held = others[0] is { Silo: true }
                ? $"job '{job}' runs on a multi-silo control plane from {spec.Checkpoint.Store} ({others[0].Describe()}{(others.Count > 1 ? $"; {others.Count} silos in all" : "")})"
                : $"job '{job}' is already running from {spec.Checkpoint.Store} ({others[0].Describe()})";
            if (store is not AzureBlobStore || waited.Elapsed >= waitForLapse)
            {
                string lapse = store is AzureBlobStore ? "; a process that was killed loses its claim a minute after it died" : "";
                string fix = (me.Silo, others[0] is { Silo: true }) switch
                {
                    (true, _) => "a multi-silo control plane does not share the job with it: let it finish or stop it (Ctrl+C), then start the silos",
                    (false, true) => "stop every silo of it first (on Kubernetes, scale the coordinator Deployment to 0; the job's state stays in the store), then run this again",
                    _ => "let it finish or stop it (Ctrl+C), then run this again; it resumes from the last checkpoint",
                };
                throw new ArgumentException($"{held}: {fix}{lapse}");
            }

            if (waited.Elapsed < LapsePoll) Console.WriteLine($"{held}; waiting up to {waitForLapse.TotalSeconds:0} s for its claim to lapse, as a dead process's does");
            await Task.Delay(LapsePoll, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan LapsePoll = TimeSpan.FromSeconds(5);

    /// <summary>This process as a launch: since it started, and where its coordinator listens once it does.</summary>
    public static LocalLaunch This(string command, Uri? coordinator = null, string? token = null, bool silo = false)
    {
        using var me = System.Diagnostics.Process.GetCurrentProcess();
        return new LocalLaunch(command, me.Id, me.StartTime.ToUniversalTime(), coordinator, token, Environment.MachineName, silo);
    }

    /// <summary>The launch running <paramref name="job"/> from <paramref name="store"/> now (alone, or else one of its silos), or null.</summary>
    public static async Task<LocalLaunch?> FindAsync(IBlobStore store, string job, CancellationToken cancellationToken) =>
        await FindAloneAsync(store, job, cancellationToken).ConfigureAwait(false)
        ?? (await FindSilosAsync(store, job, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    private static async Task<LocalLaunch?> FindAloneAsync(IBlobStore store, string job, CancellationToken cancellationToken)
    {
        string? owner = store switch
        {
            FileBlobStore files => StoreOwnerLock.FindOwner(files, JobLock(job)),
            AzureBlobStore azure => await azure.FindOwnerAsync(JobLock(job), cancellationToken).ConfigureAwait(false),
            _ => null,
        };
        return owner is null ? null : Parse(owner) ?? Unknown;
    }

    /// <summary>The silos of <paramref name="job"/> running now, oldest first.</summary>
    private static async Task<IReadOnlyList<LocalLaunch>> FindSilosAsync(IBlobStore store, string job, CancellationToken cancellationToken)
    {
        string prefix = SiloPrefix(job);
        IReadOnlyList<(string Name, string Owner)> held = store switch
        {
            FileBlobStore files => StoreOwnerLock.FindOwners(files, prefix),
            AzureBlobStore azure => await azure.FindOwnersAsync(prefix, cancellationToken).ConfigureAwait(false),
            _ => [],
        };
        // Job "a"'s prefix also begins job "a.b"'s silo names: only a bare id after it is this job's.
        return held.Where(h => h.Name.Length == prefix.Length + 32 && h.Name.AsSpan(prefix.Length).ContainsAnyExcept("0123456789abcdef") is false)
            .Select(h => Parse(h.Owner) ?? Unknown with { Silo = true })
            .OrderBy(l => l.Since)
            .ToList();
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    private static LocalLaunch? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            return JsonSerializer.Deserialize<LocalLaunch>(json, Json);
        }
        catch (JsonException)
        {
            return null; // written by another version: the lock still holds, only the details are unknown
        }
    }

    /// <summary>A holder whose description is unreadable (another version's) or not yet written: the lock still holds.</summary>
    private static readonly LocalLaunch Unknown = new("another cmm process", 0, DateTime.MinValue);

    /// <summary>What it is, for messages: "cmm train, pid 12 on HOST, since …Z, coordinator at URL" (the host when not this one).</summary>
    public string Describe() => Pid > 0
        ? $"{Command}, pid {Pid}{(Host is { } host && host != Environment.MachineName ? $" on {host}" : "")}, " +
          $"since {Since.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z" +
          (Coordinator is { } at ? $", coordinator at {at}" : "")
        : "another cmm process";

    private static string JobLock(string job) => $"job-{job}";

    private static string SiloPrefix(string job) => $"silo-{job}.";
}
