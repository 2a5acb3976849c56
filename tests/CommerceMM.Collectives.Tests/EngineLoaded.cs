using System.Runtime.CompilerServices;
using CommerceMM.Tensors;

namespace CommerceMM.Collectives.Tests;

internal static class EngineLoaded
{
    // Load the engine once, with the product's error reporting, before any test runs.
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
