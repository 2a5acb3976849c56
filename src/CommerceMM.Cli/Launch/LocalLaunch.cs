using System.Globalization;
using System.Text.Json;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Launch;

/// <summary>
/// The `cmm train` running a job from a file store on this machine, as recorded beside the store's owner lock: its
/// process, and once its coordinator listens, the coordinator's address and the launch's job token, so that
/// `cmm status` in another terminal needs no options.
/// </summary>
internal sealed record LocalLaunch(int Pid, DateTime Since, Uri? Coordinator = null, string? Token = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Takes the job for this process. A second launch would start its own coordinator on the same grain state: the
    /// state's ETags keep it consistent, but the two sets of workers would train the job twice over and fail each
    /// other's commits. An Azure store is not locked (null; a blob lease could do it).
    /// </summary>
    /// <exception cref="ArgumentException">Another `cmm train` holds the job; the message names its process.</exception>
    public static StoreOwnerLock? Take(IBlobStore store, TrainingSpec spec)
    {
        if (store is not FileBlobStore files) return null;
        return StoreOwnerLock.TryTake(files, LockName(spec.Job.Name), This().ToJson(), out string? owner)
            ?? throw new ArgumentException($"job '{spec.Job.Name}' is already being trained from {spec.Checkpoint.Store} ({Describe(owner)}): " +
                                           "let it finish or stop it (Ctrl+C), then run this again; it resumes from the last checkpoint");
    }

    /// <summary>This process as a launch: since it started, and where its coordinator listens once it does.</summary>
    public static LocalLaunch This(Uri? coordinator = null, string? token = null)
    {
        using var me = System.Diagnostics.Process.GetCurrentProcess();
        return new LocalLaunch(me.Id, me.StartTime.ToUniversalTime(), coordinator, token);
    }

    /// <summary>The launch training <paramref name="job"/> from <paramref name="store"/> now, or null.</summary>
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
        ? $"cmm train, pid {launch.Pid}, since {launch.Since.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z" +
          (launch.Coordinator is { } at ? $", coordinator at {at}" : "")
        : "another cmm train";

    private static string LockName(string job) => $"train-{job}";
}
