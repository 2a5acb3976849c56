using System.Globalization;
using System.Text.Json;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The single-silo control plane of a job on a file store, on this machine: a `cmm train`, or a `cmm coordinator` with
/// localhost clustering. It is recorded beside the store's owner lock: its process, and once it listens, its
/// coordinator's address, so that `cmm status` in another terminal needs no options. A `cmm train` also records the job
/// token it made up (a `cmm coordinator`'s token is the user's, read from the environment, and is not copied).
/// </summary>
/// <param name="Command">"cmm train" or "cmm coordinator"</param>
internal sealed record LocalLaunch(string Command, int Pid, DateTime Since, Uri? Coordinator = null, string? Token = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Takes the job for this process. A second control plane would run its own grains on the same state: the state's
    /// ETags keep it consistent, but two sets of workers would train the job twice over and fail each other's commits.
    /// An Azure store is not locked (null; a blob lease could do it), nor is a silo of a multi-silo control plane.
    /// </summary>
    /// <exception cref="ArgumentException">Another process holds the job; the message names it.</exception>
    public static StoreOwnerLock? Take(IBlobStore store, TrainingSpec spec, string command)
    {
        if (store is not FileBlobStore files) return null;
        return StoreOwnerLock.TryTake(files, LockName(spec.Job.Name), This(command).ToJson(), out string? owner)
            ?? throw new ArgumentException($"job '{spec.Job.Name}' is already running from {spec.Checkpoint.Store} ({Describe(owner)}): " +
                                           "let it finish or stop it (Ctrl+C), then run this again; it resumes from the last checkpoint");
    }

    /// <summary>This process as a launch: since it started, and where its coordinator listens once it does.</summary>
    public static LocalLaunch This(string command, Uri? coordinator = null, string? token = null)
    {
        using var me = System.Diagnostics.Process.GetCurrentProcess();
        return new LocalLaunch(command, me.Id, me.StartTime.ToUniversalTime(), coordinator, token);
    }

    /// <summary>The launch running <paramref name="job"/> from <paramref name="store"/> now, or null.</summary>
    public static LocalLaunch? Find(FileBlobStore store, string job) => Parse(StoreOwnerLock.FindOwner(store, LockName(job)));

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
        ? $"{launch.Command}, pid {launch.Pid}, since {launch.Since.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z" +
          (launch.Coordinator is { } at ? $", coordinator at {at}" : "")
        : "another cmm process";

    private static string LockName(string job) => $"job-{job}";
}
