using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Counts the TorchSharp Scalars a piece of work leaves to their finalizer: made, never disposed, no longer referenced.
/// Those are what the finalizer can free while libtorch still reads them (CONTRIBUTING: Scalars on hot paths). The
/// analyzer (CMM0001) sees the ones our code makes; this also sees those TorchSharp makes inside the ops we call.
/// </summary>
/// <remarks>
/// The work runs once to warm up (statics, lazily made constants), then again with the garbage collector held off, so
/// every Scalar it dropped is still on the heap. A dump of this process is then read with ClrMD: a Scalar whose native
/// handle is set and that nothing reachable refers to was dropped undisposed. Run it alone (a collection that disables
/// parallelization): another test's Scalars would count too.
/// </remarks>
public static class UnheldScalars
{
    public static int LeftToTheFinalizerBy(Action work)
    {
        work();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        string dump = Path.Combine(Path.GetTempPath(), $"cmm-scalars-{Environment.ProcessId}-{Guid.NewGuid():N}.dmp");
        if (!GC.TryStartNoGCRegion(200L << 20)) throw new InvalidOperationException("could not hold the garbage collector off");
        try
        {
            work();
            new DiagnosticsClient(Environment.ProcessId).WriteDump(DumpType.WithHeap, dump);
        }
        finally
        {
            // Throws if a collection ran after all: then dropped Scalars may be gone, and the count would prove nothing.
            GC.EndNoGCRegion();
        }
        try
        {
            return Count(dump);
        }
        finally
        {
            File.Delete(dump);
        }
    }

    private static int Count(string dumpPath)
    {
        using var target = DataTarget.LoadDump(dumpPath);
        // The runtime that wrote the dump ships its data-access library beside it.
        string dac = Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "libmscordaccore.so");
        using var runtime = target.ClrVersions.Single().CreateRuntime(dac, ignoreMismatch: true); // the dump lacks the version ClrMD compares
        var heap = runtime.Heap;
        var reachable = new HashSet<ulong>();
        var pending = new Stack<ClrObject>();
        foreach (var root in heap.EnumerateRoots())
            if (root.Object.IsValid && reachable.Add(root.Object.Address)) pending.Push(root.Object);
        while (pending.Count > 0)
            foreach (var referenced in pending.Pop().EnumerateReferences(carefully: false, considerDependantHandles: true))
                if (referenced.IsValid && reachable.Add(referenced.Address)) pending.Push(referenced);
        return heap.EnumerateObjects().Count(o =>
            o.Type?.Name == "TorchSharp.Scalar" && o.ReadField<nint>("handle") != 0 && !reachable.Contains(o.Address));
    }
}
