using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>The dtype names of the safetensors format.</summary>
internal static class SafeTensorsDType
{
    internal static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float16 => "F16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors cannot hold {dtype}"),
    };

    internal static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 => 2,
        _ => 1,
    };

    internal static bool TryParse(string name, out ScalarType dtype)
    {
        (bool ok, dtype) = name switch
        {
            "F32" => (true, ScalarType.Float32),
            "BF16" => (true, ScalarType.BFloat16),
            "F16" => (true, ScalarType.Float16),
            "F64" => (true, ScalarType.Float64),
            "I64" => (true, ScalarType.Int64),
            "I32" => (true, ScalarType.Int32),
            "U8" => (true, ScalarType.Byte),
            "BOOL" => (true, ScalarType.Bool),
            _ => (false, ScalarType.Float32),
        };
        return ok;
    }
}
