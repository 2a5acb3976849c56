namespace CommerceMM.Storage.Blobs;

/// <summary>
/// Validates blob keys and list prefixes before any store sees them (ARCHITECTURE.md §7: no <c>..</c>, no absolute paths).
/// </summary>
/// <remarks>
/// The character set is deliberately narrow (ASCII letters, digits, <c>. _ - =</c>, and <c>/</c> between segments):
/// such a key is the same string as a relative file path on every file system and as a URL path on Azure, so the
/// two stores can never disagree about what a key names, and no escaping is needed anywhere.
/// </remarks>
public static class BlobKey
{
    /// <summary>Azure's limit on blob name length; the file store keeps it too so both accept the same keys.</summary>
    public const int MaxLength = 1024;

    /// <summary>First segment reserved for the file store's own bookkeeping (locks, ETags, temp files).</summary>
    internal const string ReservedSegment = ".cmm-store";

    /// <summary>Throws <see cref="ArgumentException"/> naming the key and the rule it breaks.</summary>
    public static void Validate(string key, string paramName = "key")
    {
        if (Check(key, isPrefix: false) is { } problem)
        {
            throw new ArgumentException($"Blob key '{key}' is invalid: {problem}.", paramName);
        }
    }

    /// <summary>Like <see cref="Validate"/>, for list prefixes: empty is allowed and so is a trailing <c>/</c> or a partial last segment.</summary>
    public static void ValidatePrefix(string prefix, string paramName = "prefix")
    {
        if (Check(prefix, isPrefix: true) is { } problem)
        {
            throw new ArgumentException($"Blob prefix '{prefix}' is invalid: {problem}.", paramName);
        }
    }

    /// <summary>True when <paramref name="key"/> passes <see cref="Validate"/>.</summary>
    public static bool IsValid(string key) => Check(key, isPrefix: false) is null;

    /// <summary>Joins segments with <c>/</c> and validates the result.</summary>
    public static string Combine(params string[] segments)
    {
        string key = string.Join('/', segments);
        Validate(key);
        return key;
    }

    private static string? Check(string? key, bool isPrefix)
    {
        if (key is null)
        {
            return "it is null";
        }

        if (key.Length == 0)
        {
            return isPrefix ? null : "it is empty";
        }

        if (key.Length > MaxLength)
        {
            return $"it is {key.Length} characters long (at most {MaxLength})";
        }

        if (key[0] == '/')
        {
            return "it is an absolute path (starts with '/')";
        }

        foreach (char c in key)
        {
            if (!IsAllowed(c))
            {
                return c == '\\'
                    ? "'\\' is not allowed (use '/' between segments)"
                    : $"character '{(char.IsControl(c) ? '?' : c)}' (U+{(int)c:X4}) is not allowed (use A-Z a-z 0-9 . _ - = and '/')";
            }
        }

        string[] segments = key.Split('/');
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            bool last = i == segments.Length - 1;
            if (segment.Length == 0)
            {
                // A prefix may end with '/' ("job/checkpoints/"): its last segment is the empty partial name.
                if (isPrefix && last)
                {
                    continue;
                }

                return last ? "it ends with '/'" : "it has an empty segment ('//')";
            }

            if (segment is "." or "..")
            {
                return $"segment '{segment}' is not allowed";
            }

            if (i == 0 && segment == ReservedSegment)
            {
                return $"the first segment '{ReservedSegment}' is reserved for the store";
            }
        }

        return null;
    }

    private static bool IsAllowed(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-' or '=' or '/';
}
