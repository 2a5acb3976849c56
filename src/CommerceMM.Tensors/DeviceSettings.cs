using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>Compute precision: fp32, or bf16 compute with fp32 master weights and fp32 loss reductions.</summary>
public enum Precision
{
    Fp32,
    Bf16,
}

/// <summary>Where a job's tensors live and in which precision it computes (job.device, model.precision).</summary>
public sealed record DeviceSettings(Device Device, Precision Precision)
{
    public static readonly DeviceSettings Cpu = new(torch.CPU, Precision.Fp32);

    public bool IsCuda => Device.type == DeviceType.CUDA;

    /// <summary>The dtype activations are computed in.</summary>
    public ScalarType ComputeType => Precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Parses job.device ("cpu", "cuda", "cuda:N") without touching the engine; errors name the key and the fix.</summary>
    public static (DeviceType Type, int Index) ParseDevice(string text, string key = "job.device")
    {
        string value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return (DeviceType.CPU, -1);
        if (value == "cuda") return (DeviceType.CUDA, 0);
        if (value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), out int index) && index >= 0)
            return (DeviceType.CUDA, index);
        throw new ArgumentException($"{key}: '{text}' is not a device; use cpu, cuda or cuda:N (N = 0 for the first GPU)");
    }

    public static Precision ParsePrecision(string text, string key = "model.precision") => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => Precision.Fp32,
        "bf16" or "bfloat16" => Precision.Bf16,
        _ => throw new ArgumentException($"{key}: '{text}' is not a precision; use fp32 or bf16"),
    };

    /// <summary>
    /// Resolves settings against this machine: a CUDA device that is absent, or an index past the last GPU, is an error
    /// naming <paramref name="deviceKey"/> (never a silent fall back to the CPU); bf16 on a CPU without native bf16
    /// arithmetic is an error naming <paramref name="precisionKey"/> (never a silently slower run).
    /// </summary>
    /// <param name="deviceKey">where the device came from, as the user wrote it: a spec key or a command's option</param>
    /// <param name="precisionKey">where the precision came from, likewise</param>
    public static DeviceSettings Resolve(string device, string precision, string deviceKey = "job.device", string precisionKey = "model.precision")
    {
        var (type, index) = ParseDevice(device, deviceKey);
        var p = ParsePrecision(precision, precisionKey);
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
        return new DeviceSettings(torch.device(DeviceType.CUDA, index), p);
    }

    /// <summary>"job.device=cpu" for a spec key, "--device cpu" for an option.</summary>
    private static string Assignment(string key, string value) => key.StartsWith("--", StringComparison.Ordinal) ? $"{key} {value}" : $"{key}={value}";
}
