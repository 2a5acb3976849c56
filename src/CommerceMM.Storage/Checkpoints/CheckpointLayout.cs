using System.Globalization;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// Where checkpoint blobs live (ARCHITECTURE.md §5): <c>JOB/checkpoints/step-N/FILE</c>, the manifest as
/// <c>JOB/checkpoints/step-N/manifest.json</c>, and the commit pointer as <c>JOB/checkpoints/latest</c>; checkpoints an
/// operator rolled back past are kept as <c>JOB/rolled-back/STAMP/step-N/FILE</c>.
/// </summary>
public static class CheckpointLayout
{
    public const string ManifestName = "manifest.json";

    public const string LatestName = "latest";

    /// <summary>Why the coordinator set a committed step aside (<see cref="CheckpointRecovery.RollBackAsync"/>), in plain text, beside the step's files.</summary>
    public const string SetAsideName = "set-aside.txt";

    private const string StepPrefix = "step-";

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="job"/> is one valid key segment.</summary>
    public static void ValidateJob(string job)
    {
        if (string.IsNullOrEmpty(job) || job.Contains('/', StringComparison.Ordinal) || !BlobKey.IsValid(job))
        {
            throw new ArgumentException($"Job name '{job}' is invalid: use one segment of A-Z a-z 0-9 . _ - = (no '/', not '.' or '..').", nameof(job));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="path"/> is a valid relative file path for a checkpoint.</summary>
    public static void ValidateFilePath(string path)
    {
        BlobKey.Validate(path, nameof(path));
        if (path == ManifestName)
        {
            throw new ArgumentException($"Checkpoint file path '{path}' is reserved for the manifest.", nameof(path));
        }
    }

    /// <summary><c>JOB/checkpoints/</c>.</summary>
    public static string CheckpointsPrefix(string job)
    {
        ValidateJob(job);
        return $"{job}/checkpoints/";
    }

    /// <summary><c>JOB/checkpoints/step-N/</c>.</summary>
    public static string StepFolder(string job, long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return string.Create(CultureInfo.InvariantCulture, $"{CheckpointsPrefix(job)}{StepPrefix}{step}/");
    }

    public static string FileKey(string job, long step, string path)
    {
        ValidateFilePath(path);
        return StepFolder(job, step) + path;
    }

    public static string ManifestKey(string job, long step) => StepFolder(job, step) + ManifestName;

    public static string LatestKey(string job) => CheckpointsPrefix(job) + LatestName;

    public static string SetAsideKey(string job, long step) => StepFolder(job, step) + SetAsideName;

    /// <summary><c>JOB/rolled-back/</c>: checkpoints an operator rolled back past (<see cref="CheckpointRollback"/>), outside what restore and retention read.</summary>
    public static string RolledBackPrefix(string job)
    {
        ValidateJob(job);
        return $"{job}/rolled-back/";
    }

    /// <summary>Splits a key under <see cref="CheckpointsPrefix"/> into its step and the path inside the step folder.</summary>
    public static bool TryParse(string job, string key, out long step, out string path)
    {
        step = -1;
        path = "";
        string prefix = CheckpointsPrefix(job) + StepPrefix;
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        int slash = key.IndexOf('/', prefix.Length);
        ReadOnlySpan<char> digits = key.AsSpan(prefix.Length, (slash < 0 ? key.Length : slash) - prefix.Length);
        // Canonical decimal only ("step-007" is not step 7): one step, one folder.
        if (slash < 0 || digits.Length == 0 || (digits.Length > 1 && digits[0] == '0')
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out step))
        {
            step = -1;
            return false;
        }

        path = key[(slash + 1)..];
        return true;
    }
}
