using System.Runtime.CompilerServices;
using CommerceMM.Tensors;

namespace CommerceMM.Model.Tests;

internal static class EngineLoaded
{
    // Load the engine once, with the product's error reporting, before any test runs. One intra-op
    // thread, as the old engine's libtorch defaulted to: the tests' float32 tolerances (two-pass
    // gradient = summed single-task gradients to 1e-6 of the largest element) were set for its
    // rounding, and at 2 threads the split reductions land at the edge of them (measured 1.0-1.2x).
    [ModuleInitializer]
    internal static void Load()
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.NumThreads = 1;
    }
}
