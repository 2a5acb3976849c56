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
}
