using System.Runtime.CompilerServices;

namespace CommerceMM.Tensors.Tests;

internal static class EngineLoaded
{
    // Every test here uses torch: load it once with the product's error reporting.
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
