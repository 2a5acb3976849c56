using System.Globalization;
using System.Text.Json;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The single-silo control plane of a job: a `cmm train`, or a `cmm coordinator` with localhost clustering. It is
/// recorded with the store's owner lock: its process and host, and once it listens, its coordinator's address, so that
/// `cmm status` in another terminal needs no options. A `cmm train` also records the job token it made up (a
/// `cmm coordinator`'s token is the user's, read from the environment, and is not copied).
/// </summary>
/// <param name="Command">"cmm train" or "cmm coordinator"</param>
internal sealed record LocalLaunch(string Command, int Pid, DateTime Since, Uri? Coordinator = null, string? Token = null, string? Host = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Takes the job for this process. A second control plane would run its own grains on the same state: the state's
    /// ETags keep it consistent, but two sets of workers would train the job twice over and fail each other's commits.
    /// On a file store the lock is a <c>flock</c> (one host); on Azure a blob lease, which holds across hosts. A silo
    /// of a multi-silo control plane takes none: those share the state by design.
    /// </summary>
    /// <param name="waitForLapse">
    /// On Azure, how long to keep trying while another holds the job: a coordinator rescheduled after its node died finds
    /// the dead one's lease, which lapses within a minute, and waiting beats a crash loop. Zero refuses at once.
    /// </param>
    /// <exception cref="ArgumentException">Another process holds the job; the message names it.</exception>
    public static async Task<IStoreOwnerLock> TakeAsync(IBlobStore store, TrainingSpec spec, string command, CancellationToken cancellationToken, TimeSpan waitForLapse = default)
    {
        string name = LockName(spec.Job.Name), me = This(command).ToJson();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            (IStoreOwnerLock? taken, string? owner) = store switch
            {
                FileBlobStore files => (StoreOwnerLock.TryTake(files, name, me, out string? current), current),
                AzureBlobStore azure => await azure.TryTakeOwnerAsync(name, me, cancellationToken).ConfigureAwait(false),
                _ => throw new ArgumentException($"no owner lock for a {store.GetType().Name}"),
            };
            if (taken is not null) return taken;
            string held = $"job '{spec.Job.Name}' is already running from {spec.Checkpoint.Store} ({Describe(owner)})";
            if (store is not AzureBlobStore || waited.Elapsed >= waitForLapse)
            {
                string lapse = store is AzureBlobStore ? "; a process that was killed loses its claim a minute after it died" : "";
                throw new ArgumentException($"{held}: let it finish or stop it (Ctrl+C), then run this again; it resumes from the last checkpoint{lapse}");
            }

            if (waited.Elapsed < LapsePoll) Console.WriteLine($"{held}; waiting up to {waitForLapse.TotalSeconds:0} s for its claim to lapse, as a dead process's does");
            await Task.Delay(LapsePoll, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan LapsePoll = TimeSpan.FromSeconds(5);

    /// <summary>This process as a launch: since it started, and where its coordinator listens once it does.</summary>
    public static LocalLaunch This(string command, Uri? coordinator = null, string? token = null)
    {
        using var me = System.Diagnostics.Process.GetCurrentProcess();
        return new LocalLaunch(command, me.Id, me.StartTime.ToUniversalTime(), coordinator, token, Environment.MachineName);
    }

    /// <summary>The launch running <paramref name="job"/> from <paramref name="store"/> now, or null.</summary>
    public static async Task<LocalLaunch?> FindAsync(IBlobStore store, string job, CancellationToken cancellationToken) => Parse(store switch
    {
        FileBlobStore files => StoreOwnerLock.FindOwner(files, LockName(job)),
        AzureBlobStore azure => await azure.FindOwnerAsync(LockName(job), cancellationToken).ConfigureAwait(false),
        _ => null,
    });

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

    private static string Describe(string? owner) => Parse(owner) is { } launch
        ? $"{launch.Command}, pid {launch.Pid}{(launch.Host is { } host && host != Environment.MachineName ? $" on {host}" : "")}, " +
          $"since {launch.Since.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z" +
          (launch.Coordinator is { } at ? $", coordinator at {at}" : "")
        : "another cmm process";

    private static string LockName(string job) => $"job-{job}";
}
