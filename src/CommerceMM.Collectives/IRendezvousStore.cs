namespace CommerceMM.Collectives;

/// <summary>
/// The key/value store ranks meet through to connect (Gloo addresses, the NCCL unique id). It lives
/// off the training nodes, in the coordinator; the caller scopes keys to one job generation, so a late
/// write from an earlier generation can never satisfy a new rendezvous.
/// </summary>
public interface IRendezvousStore
{
    void Set(string key, byte[] value);

    /// <summary>Waits until key exists and returns its value; throws <see cref="TimeoutException"/> naming the key after timeout.</summary>
    byte[] Get(string key, TimeSpan timeout);
}
