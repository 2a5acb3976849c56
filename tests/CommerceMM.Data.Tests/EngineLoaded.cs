using System.Runtime.CompilerServices;
using CommerceMM.Tensors;

namespace CommerceMM.Data.Tests;

internal static class EngineLoaded
{
    // Batches are tensors: load the engine once, with the product's error reporting, before any test runs.
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
