using System.Text;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Models;
using global::Azure.Storage.Blobs.Specialized;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Owner locks on Azure: a lease on <c>.cmm-store/owners/NAME.owner</c>, whose content describes the owner. Machines
/// share a container, so the lease works between hosts, where the file store's <c>flock</c> works within one.
/// </summary>
/// <remarks>
/// The lease is taken for 60 s and renewed every 20 s. A holder killed with kill -9 cannot release it, so its claim
/// lapses a minute after its last renewal.
/// </remarks>
public sealed partial class AzureBlobStore
{
    /// <summary>
    /// Takes <paramref name="name"/> for this process, recording <paramref name="owner"/>; null, with the current owner's
    /// description, when another holds it. With <paramref name="forgetOnRelease"/> the blob goes when this owner lets go:
    /// for a name nobody takes twice, which would otherwise pile up.
    /// </summary>
    public async Task<(IStoreOwnerLock? Taken, string? CurrentOwner)> TryTakeOwnerAsync(string name, string owner, CancellationToken cancellationToken = default, bool forgetOnRelease = false)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        BlobClient blob = OwnerBlob(name);
        try
        {
            // The lease needs the blob; an existing one (another owner's, or a past one's) is left as it is.
            await blob.UploadAsync(BinaryData.FromString(""), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // It exists: the lease below decides.
        }
        catch (Exception e) when (Failure("write", blob.Name, e, cancellationToken) is { } failure)
        {
            throw failure;
        }

        BlobLeaseClient lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(_options.OwnerLeaseDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return (null, await ReadOwnerAsync(blob, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (Failure("lease", blob.Name, e, cancellationToken) is { } failure)
        {
            throw failure;
        }

        var taken = new OwnerLease(this, blob, lease, _options.OwnerLeaseDuration, forgetOnRelease);
        taken.UpdateOwner(owner);
        return (taken, owner);
    }

    /// <summary>The description of whoever holds <paramref name="name"/> now; null when nobody does.</summary>
    public async Task<string?> FindOwnerAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        BlobClient blob = OwnerBlob(name);
        try
        {
            Response<global::Azure.Storage.Blobs.Models.BlobProperties> properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return properties.Value.LeaseState == LeaseState.Leased ? await ReadOwnerAsync(blob, cancellationToken).ConfigureAwait(false) : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (Exception e) when (Failure("read", blob.Name, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>The names starting with <paramref name="prefix"/> held now, each with its owner's description ("" when it has written none yet).</summary>
    public async Task<IReadOnlyList<(string Name, string Owner)>> FindOwnersAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        StoreOwnerNames.Validate(prefix);
        const string folder = OwnersFolder;
        var held = new List<(string, string)>();
        try
        {
            await foreach (BlobItem item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = folder + prefix }, cancellationToken).ConfigureAwait(false))
            {
                if (item.Properties.LeaseState != LeaseState.Leased || !item.Name.EndsWith(".owner", StringComparison.Ordinal)) continue;
                string? owner = await ReadOwnerAsync(_container.GetBlobClient(item.Name), cancellationToken).ConfigureAwait(false);
                held.Add((item.Name[folder.Length..^".owner".Length], owner ?? ""));
            }
        }
        catch (Exception e) when (Failure("list", folder + prefix, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
        return held;
    }

    /// <summary>
    /// Deletes the names starting with <paramref name="prefix"/> that nobody holds and whose blob was last written longer
    /// than <paramref name="olderThan"/> ago: what a holder that forgets its name on release leaves when it is killed (its
    /// lease lapses, its blob stays). The age keeps it off a name whose new holder has written the blob and is about to
    /// lease it; the ETag, off one written since the listing.
    /// </summary>
    /// <returns>how many names it deleted</returns>
    public async Task<int> PruneUnheldOwnersAsync(string prefix, TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        StoreOwnerNames.Validate(prefix);
        int pruned = 0;
        try
        {
            await foreach (BlobItem item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = OwnersFolder + prefix }, cancellationToken).ConfigureAwait(false))
            {
                if (item.Properties.LeaseState == LeaseState.Leased || DateTimeOffset.UtcNow - item.Properties.LastModified < olderThan) continue;
                try
                {
                    await _container.GetBlobClient(item.Name).DeleteAsync(conditions: new BlobRequestConditions { IfMatch = item.Properties.ETag }, cancellationToken: cancellationToken)
                        .ConfigureAwait(false);
                    pruned++;
                }
                catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
                {
                    // Gone, leased or rewritten since the listing: someone holds it again, or another silo pruned it.
                }
            }
        }
        catch (Exception e) when (Failure("list", OwnersFolder + prefix, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
        return pruned;
    }

    /// <summary>The blob whose lease is the lock (tests take one directly, as a holder that died would have).</summary>
    internal BlobClient OwnerBlob(string name)
    {
        StoreOwnerNames.Validate(name);
        return _container.GetBlobClient($"{OwnersFolder}{name}.owner");
    }

    private const string OwnersFolder = BlobKey.ReservedSegment + "/owners/";

    private static async Task<string?> ReadOwnerAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            BlobDownloadResult content = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            string text = content.Content.ToString().Trim();
            return text.Length == 0 ? null : text;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>A held lease, renewed in the background until disposed, then released.</summary>
    private sealed class OwnerLease : IStoreOwnerLock
    {
        private readonly AzureBlobStore _store;
        private readonly BlobClient _blob;
        private readonly BlobLeaseClient _lease;
        private readonly bool _forgetOnRelease;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewing;

        public OwnerLease(AzureBlobStore store, BlobClient blob, BlobLeaseClient lease, TimeSpan duration, bool forgetOnRelease)
        {
            (_store, _blob, _lease, _forgetOnRelease) = (store, blob, lease, forgetOnRelease);
            _renewing = RenewAsync(duration / 3, _stop.Token);
        }

        public void UpdateOwner(string owner)
        {
            var options = new BlobUploadOptions { Conditions = new BlobRequestConditions { LeaseId = _lease.LeaseId } };
            try
            {
                _blob.Upload(new BinaryData(Encoding.UTF8.GetBytes(owner)), options);
            }
            catch (Exception e) when (_store.Failure("write", _blob.Name, e, CancellationToken.None) is { } failure)
            {
                throw failure;
            }
        }

        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            try
            {
                _renewing.Wait(TimeSpan.FromSeconds(5));
                if (_forgetOnRelease) _blob.Delete(conditions: new BlobRequestConditions { LeaseId = _lease.LeaseId });
                else _lease.Release();
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException or OperationCanceledException)
            {
                // Lost already, or the service is unreachable: the claim lapses with the lease.
            }
            _stop.Dispose();
        }

        /// <summary>Renews until stopped. A renewal that fails is tried again at the next period; the lease outlasts two missed ones.</summary>
        private async Task RenewAsync(TimeSpan period, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(period, stop).ConfigureAwait(false);
                    await _lease.RenewAsync(cancellationToken: stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (RequestFailedException)
                {
                }
            }
        }
    }
}
