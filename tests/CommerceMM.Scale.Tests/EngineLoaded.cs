using System.Runtime.CompilerServices;
using CommerceMM.Tensors;

namespace CommerceMM.Scale.Tests;

internal static class EngineLoaded
{
    // Every test here uses torch: load it once with the product's error reporting.
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
