namespace CommerceMM.Storage.Blobs;

/// <summary>
/// A name in a store that one process at a time may own, such as "the job being trained from this store", with a
/// description of its owner that others can read. Disposing gives it up.
/// </summary>
public interface IStoreOwnerLock : IDisposable
{
    /// <summary>Replaces the recorded description of the owner.</summary>
    void UpdateOwner(string owner);
}

/// <summary>The names owner locks take, on every store.</summary>
internal static class StoreOwnerNames
{
    /// <summary>Letters, digits, '-', '_', '.' and '=' (a job name qualifies), not starting with '.'.</summary>
    public static void Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '=')) || name.StartsWith('.'))
            throw new ArgumentException($"owner lock name '{name}' must be letters, digits, '-', '_', '.' or '=', not starting with '.'", nameof(name));
    }
}
