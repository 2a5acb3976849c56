using System.Runtime.CompilerServices;
using CommerceMM.Tensors;

namespace CommerceMM.Cli.Tests;

internal static class EngineLoaded
{
    // Tests read checkpoints as tensors: load the engine once, with the product's error reporting, before any test runs.
    [ModuleInitializer]
    internal static void Load() => TorchRuntime.EnsureLoaded();
}
