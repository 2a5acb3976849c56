namespace CommerceMM.Torch.Serialization;

/// <summary>The dtype names of the safetensors format.</summary>
internal static class SafeTensorsDType
{
    internal static string Name(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.BFloat16 => "BF16",
        DType.Float16 => "F16",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        DType.Int32 => "I32",
        DType.UInt8 => "U8",
        DType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors cannot hold {dtype}"),
    };

    internal static bool TryParse(string name, out DType dtype)
    {
        (bool ok, dtype) = name switch
        {
            "F32" => (true, DType.Float32),
            "BF16" => (true, DType.BFloat16),
            "F16" => (true, DType.Float16),
            "F64" => (true, DType.Float64),
            "I64" => (true, DType.Int64),
            "I32" => (true, DType.Int32),
            "U8" => (true, DType.UInt8),
            "BOOL" => (true, DType.Bool),
            _ => (false, DType.Float32),
        };
        return ok;
    }
}
