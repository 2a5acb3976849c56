namespace CommerceMM.Collectives;

/// <summary>Which library moves the bytes. Values are the native ABI's codes.</summary>
internal enum CollectiveBackend
{
    /// <summary>Gloo over TCP, for host memory.</summary>
    Gloo = 0,
    /// <summary>NCCL, for CUDA memory (tests also run it over a stub NCCL with host memory).</summary>
    Nccl = 1,
}
