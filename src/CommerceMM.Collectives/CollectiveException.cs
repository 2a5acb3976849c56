namespace CommerceMM.Collectives;

/// <summary>What kind of failure a <see cref="CollectiveException"/> reports. Values are the native ABI's statuses.</summary>
public enum CollectiveError
{
    /// <summary>A bad argument; nothing was sent and the group is still usable.</summary>
    InvalidArgument = -1,
    /// <summary>The operation did not complete in time; the group is unusable afterwards.</summary>
    Timeout = -2,
    /// <summary>A peer failed or vanished; the group is unusable afterwards.</summary>
    PeerFailure = -3,
    /// <summary>An earlier operation failed, so the group refuses further work.</summary>
    GroupBroken = -4,
    /// <summary>The rendezvous store failed (unreachable, refused a key).</summary>
    StoreFailure = -5,
    /// <summary>The backend cannot be used on this machine (NCCL or the CUDA driver not loadable).</summary>
    Unavailable = -6,
    Internal = -7,
}

/// <summary>
/// A collective or a rendezvous failed. After <see cref="CollectiveError.Timeout"/>, <see cref="CollectiveError.PeerFailure"/>
/// or <see cref="CollectiveError.GroupBroken"/> the ranks are out of step: dispose the group and rejoin.
/// </summary>
public sealed class CollectiveException : Exception
{
    public CollectiveException(CollectiveError error, string message, Exception? inner = null) : base(message, inner) => Error = error;

    public CollectiveError Error { get; }
}
