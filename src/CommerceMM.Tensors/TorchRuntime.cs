using System.Runtime.InteropServices;
using TorchSharp;

namespace CommerceMM.Tensors;

/// <summary>
/// Loads the engine with errors that name the real cause, and keeps the configured thread count on
/// whatever thread runs a step. Call <see cref="EnsureLoaded"/> before the first use of <c>torch</c>.
/// </summary>
public static class TorchRuntime
{
    /// <summary>A folder of libtorch libraries to use instead of the packaged CPU build (GPU.md: a PyTorch CUDA install's torch/lib).</summary>
    public const string LibTorchDirVariable = "CMM_LIBTORCH_DIR";

    private static readonly object s_gate = new();
    private static bool s_loaded;
    private static int s_numThreads;

    /// <summary>
    /// Loads libLibTorchSharp (and, with <see cref="LibTorchDirVariable"/>, that folder's libtorch first).
    /// TorchSharp swallows the loader's message and blames a missing package; this throws the loader's
    /// own message and the fix instead.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (s_gate)
        {
            if (s_loaded) return;
            MklCpuPath.Apply();   // before libtorch: its MKL resolves the vendor check on first use
            string? external = Environment.GetEnvironmentVariable(LibTorchDirVariable);
            if (!string.IsNullOrEmpty(external)) PreloadExternal(external);
            string shim = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
            if (!File.Exists(shim))
                throw new TorchLoadException($"{shim} is missing: this build has no TorchSharp native library. Rebuild with the default TorchBackend=cpu, or publish with TorchBackend=none and set {LibTorchDirVariable}.");
            try
            {
                NativeLibrary.Load(shim);
            }
            catch (DllNotFoundException e)
            {
                throw new TorchLoadException(Explain(shim, e.Message), e);
            }
            s_loaded = true;
        }
    }

    private static void PreloadExternal(string dir)
    {
        // Order matters: each library's dependencies first (GPU.md, step 3). CUDA parts are optional.
        foreach (var (name, required) in new[] { ("libc10.so", true), ("libc10_cuda.so", false), ("libtorch_cpu.so", true), ("libtorch_cuda.so", false), ("libtorch.so", true) })
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path))
            {
                if (required) throw new TorchLoadException($"{LibTorchDirVariable}={dir} has no {name}; point it at a libtorch lib folder (python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))'/lib)");
                continue;
            }
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new TorchLoadException($"{path} did not load: {e.Message}. Add the folders of its dependencies (CUDA, NCCL: site-packages/nvidia/*/lib) to LD_LIBRARY_PATH.", e);
            }
        }
    }

    internal static string Explain(string shim, string loaderMessage)
    {
        string fix = loaderMessage.Contains("GLIBCXX_", StringComparison.Ordinal)
            ? "The build marks that version requirement weak in every output folder (Directory.Build.targets, PLATFORM.md); this copy was not patched. Rebuild with `dotnet build`, or copy the library from a built output folder."
            : loaderMessage.Contains("cannot open shared object file", StringComparison.Ordinal)
                ? "A library it needs is not on the search path: for the CPU build run `dotnet build` (libtorch-cpu-linux-x64 puts libtorch beside it); for CUDA set " + LibTorchDirVariable + " and LD_LIBRARY_PATH (GPU.md)."
                : "See PLATFORM.md for the known traps.";
        return $"TorchSharp's native library {shim} could not be loaded: {loaderMessage}. {fix}";
    }

    /// <summary>
    /// Intra-op threads. OpenMP (so MKL and OpenBLAS) keeps the count per OS thread: the setter reaches
    /// only the calling thread. Work that may resume on another thread calls <see cref="UseConfiguredThreads"/>.
    /// </summary>
    public static int NumThreads
    {
        get => torch.get_num_threads();
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "thread count must be at least 1");
            EnsureLoaded();
            torch.set_num_threads(value);
            s_numThreads = value;
        }
    }

    /// <summary>The intra-op threads a step may use: the last <see cref="NumThreads"/> set, else libtorch's default.</summary>
    public static int ConfiguredThreads => s_numThreads > 0 ? s_numThreads : torch.get_num_threads();

    /// <summary>
    /// Gives the calling thread the last <see cref="NumThreads"/> set. Without it, two one-thread workers
    /// on two cores ran their BLAS calls with two threads each wherever a step resumed on a thread-pool
    /// thread: oversubscribed, and with results that varied from run to run.
    /// </summary>
    public static void UseConfiguredThreads()
    {
        int wanted = s_numThreads;
        if (wanted > 0 && torch.get_num_threads() != wanted) torch.set_num_threads(wanted);
    }
}

/// <summary>The engine's native library could not be loaded; the message names the cause and the fix.</summary>
public sealed class TorchLoadException(string message, Exception? inner = null) : Exception(message, inner);
