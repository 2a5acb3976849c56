using CommerceMM.Collectives.Interop;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Collectives;

/// <summary>
/// job.device and model.precision checked against this machine before anything is built on them. It sits beside the
/// CUDA driver binding because TorchSharp reports no GPU's compute capability, which bf16 depends on.
/// </summary>
public static class MachineDevices
{
    /// <summary>The first compute capability whose tensor cores do bf16 (Ampere).</summary>
    public const int Bf16ComputeCapability = 8;

    /// <summary>
    /// The settings, or an error naming the key at fault and a fix: a CUDA device that is absent or past the last GPU
    /// (never a silent fall back to the CPU), or bf16 on a CPU or GPU without native bf16 (never a silently slower run).
    /// </summary>
    /// <param name="deviceKey">where the device came from, as the user wrote it: a spec key or a command's option</param>
    /// <param name="precisionKey">where the precision came from, likewise</param>
    public static DeviceSettings Resolve(string device, string precision, string deviceKey = "job.device", string precisionKey = "model.precision")
    {
        var (type, index) = DeviceSettings.ParseDevice(device, deviceKey);
        var p = DeviceSettings.ParsePrecision(precision, precisionKey);
        TorchRuntime.EnsureLoaded();
        if (type == DeviceType.CPU)
        {
            if (p == Precision.Bf16 && CpuBf16.IsNativeHere() == false)
                throw new ArgumentException($"{precisionKey}: 'bf16' on the CPU needs native bf16 arithmetic ({string.Join(", ", CpuBf16.NativeFlags)} in /proc/cpuinfo), " +
                                            $"which this CPU lacks: libtorch would emulate it, about 2x slower than fp32. Use {Assignment(precisionKey, "fp32")}, or a CPU or GPU with bf16.");
            return new DeviceSettings(torch.CPU, p);
        }
        if (!torch.cuda.is_available())
            throw new ArgumentException($"{deviceKey}: '{device}' asks for CUDA, but this machine has no usable CUDA device (no GPU, no driver, or a CPU-only build: TorchBackend=cpu). Use {Assignment(deviceKey, "cpu")}, or run the CUDA build on a GPU machine.");
        int count = torch.cuda.device_count();
        if (index >= count)
            throw new ArgumentException($"{deviceKey}: '{device}' asks for GPU {index}, but this machine has {count} (cuda:0..cuda:{count - 1}).");
        if (p == Precision.Bf16 && CudaBf16Problem($"cuda:{index}", CudaComputeCapability(index), precisionKey) is { } problem)
            throw new ArgumentException(problem);
        return new DeviceSettings(torch.device(DeviceType.CUDA, index), p);
    }

    /// <summary>Why a GPU of <paramref name="capability"/> cannot train in bf16, naming the key and the fix; null when it can.</summary>
    public static string? CudaBf16Problem(string device, (int Major, int Minor) capability, string precisionKey = "model.precision") =>
        capability.Major >= Bf16ComputeCapability
            ? null
            : $"{precisionKey}: 'bf16' needs a GPU of compute capability {Bf16ComputeCapability}.0 or later (A100, A10, L4, H100 and newer), " +
              $"and {device} is {capability.Major}.{capability.Minor}. Use {Assignment(precisionKey, "fp32")}, or a newer GPU.";

    /// <summary>The compute capability of CUDA device <paramref name="device"/>, from its driver.</summary>
    /// <exception cref="CollectiveException">No usable driver, or no such device.</exception>
    public static (int Major, int Minor) CudaComputeCapability(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        NativeStatus.Check(NativeMethods.cmm_cuda_compute_capability(device, out int major, out int minor), $"compute capability of cuda:{device}");
        return (major, minor);
    }

    /// <summary>"job.device=cpu" for a spec key, "--device cpu" for an option.</summary>
    private static string Assignment(string key, string value) => key.StartsWith("--", StringComparison.Ordinal) ? $"{key} {value}" : $"{key}={value}";
}
