using System.Runtime.CompilerServices;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Tests.Checkpoints;

/// <summary>
/// A real store that "dies" at a chosen operation: that operation and every later one throw
/// <see cref="SimulatedCrashException"/> and never reach the inner store. What the inner store then holds is exactly
/// what a kill -9 just before that operation leaves; recovery is tested against the inner store, as a restarted
/// process would see it.
/// </summary>
internal sealed class CrashingBlobStore(IBlobStore inner, Func<string, string, bool> crashBefore) : IBlobStore
{
    private volatile bool _dead;

    public const string Put = "put", Read = "read", Properties = "properties", List = "list", Delete = "delete";

    /// <summary>Whether the crash point was reached (a test whose crash never happened proves nothing).</summary>
    public bool Crashed => _dead;

    public Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
    {
        Check(Put, key);
        return inner.PutAsync(key, content, condition, cancellationToken);
    }

    public Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        Check(Read, key);
        return inner.OpenReadAsync(key, range, expectedSha256, cancellationToken);
    }

    public Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(Properties, key);
        return inner.GetPropertiesAsync(key, cancellationToken);
    }

    public async IAsyncEnumerable<BlobProperties> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Check(List, prefix);
        await foreach (BlobProperties blob in inner.ListAsync(prefix, cancellationToken))
        {
            yield return blob;
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Check(Delete, key);
        return inner.DeleteAsync(key, cancellationToken);
    }

    private void Check(string operation, string key)
    {
        lock (this)
        {
            if (!_dead && crashBefore(operation, key))
            {
                _dead = true;
            }
        }

        if (_dead)
        {
            throw new SimulatedCrashException($"the process died before {operation} '{key}'");
        }
    }
}

internal sealed class SimulatedCrashException(string message) : Exception(message);
