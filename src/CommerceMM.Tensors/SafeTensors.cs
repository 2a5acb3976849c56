using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header
/// mapping names to dtype/shape/byte offsets, then the raw little-endian data), readable by PyTorch
/// and Hugging Face tools. CPU tensors stream straight between native memory and the file; tensors on
/// another device are copied to the host first. Read tensors land on the CPU (move them with <c>to</c>). Every structural problem in a file is an <see cref="InvalidDataException"/> naming the
/// file, the tensor and the expected versus actual value.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused before allocation (a corrupt length field).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private const string MetadataKey = "__metadata__";

    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(file, tensors, metadata);
        file.Flush(flushToDisk: true);
    }

    public static void Write(Stream stream, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (entries, header) = Prepare(tensors, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var (_, tensor) in entries)
        {
            using var host = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? null : tensor.detach().cpu().contiguous();
            stream.Write(TensorMemory.HostBytes(host ?? tensor));
        }
    }

    /// <summary>
    /// The file's bytes in one array of exactly its size, each tensor copied once, straight into place: the cheapest
    /// way to take tensors into host memory that training goes on changing (a checkpoint snapshot).
    /// </summary>
    /// <param name="buffers">where the array comes from (reused across saves), or null for a new one</param>
    public static byte[] ToBytes(IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, HostBufferPool? buffers = null)
    {
        var (file, places) = Allocate(tensors, metadata, buffers);
        foreach (var (tensor, place) in places)
        {
            using var host = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? null : tensor.detach().cpu().contiguous();
            TensorMemory.HostBytes(host ?? tensor).CopyTo(place.Span);
        }
        return file;
    }

    /// <summary>
    /// A file's array of exactly its size with the header written, and each tensor's place in it, for a caller that
    /// fills the places itself (from a device, in the background). The places are not zeroed.
    /// </summary>
    public static (byte[] File, IReadOnlyList<(Tensor Tensor, Memory<byte> Place)> Places) Allocate(
        IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, HostBufferPool? buffers = null)
    {
        var (entries, header) = Prepare(tensors, metadata);
        long total = 8L + header.Length + entries.Sum(e => e.Tensor.NumberOfElements * e.Tensor.ElementSize);
        if (total > Array.MaxLength) throw new NotSupportedException($"a safetensors file of {total} bytes does not fit one array; write it to a stream instead");
        byte[] file = buffers?.Rent((int)total) ?? GC.AllocateUninitializedArray<byte>((int)total);
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file.AsSpan(8));
        var places = new List<(Tensor, Memory<byte>)>(entries.Count);
        int offset = 8 + header.Length;
        foreach (var (_, tensor) in entries)
        {
            int bytes = (int)(tensor.NumberOfElements * tensor.ElementSize);
            places.Add((tensor, file.AsMemory(offset, bytes)));
            offset += bytes;
        }
        return (file, places);
    }

    private static (List<(string Name, Tensor Tensor)> Entries, byte[] Header) Prepare(IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var entries = tensors.ToList();
        var names = new HashSet<string>();
        foreach (var (name, _) in entries)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey) throw new ArgumentException($"invalid tensor name '{name}'");
            if (!names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'");
        }
        return (entries, BuildHeader(entries, metadata));
    }

    public static SafeTensorsFile Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Read(file, path);
    }

    /// <param name="stream">read forward only; need not be seekable</param>
    /// <param name="source">names the file in error messages</param>
    public static SafeTensorsFile Read(Stream stream, string source)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(stream, lengthBytes, source, "the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{source}: header length {headerLength} is not plausible (2..{MaxHeaderBytes}); not a safetensors file or corrupt");
        if (stream.CanSeek && stream.Length - 8 < (long)headerLength)
            throw new InvalidDataException($"{source}: truncated: header says {headerLength} bytes but the file has {stream.Length - 8} after the length field");

        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, source, "the JSON header");
        var (specs, metadata) = ParseHeader(headerBytes, source);

        long dataLength = specs.Count == 0 ? 0 : specs[^1].End;
        if (stream.CanSeek && stream.Length - 8 - (long)headerLength < dataLength)
            throw new InvalidDataException($"{source}: truncated: tensors need {dataLength} data bytes but the file has {stream.Length - 8 - (long)headerLength}");

        var tensors = new List<(string, Tensor)>(specs.Count);
        try
        {
            foreach (var spec in specs)
            {
                var tensor = torch.empty(spec.Shape, spec.DType).DetachFromDisposeScope();
                tensors.Add((spec.Name, tensor));
                ReadExactly(stream, TensorMemory.HostBytes(tensor), source, $"tensor '{spec.Name}'");
            }
        }
        catch
        {
            foreach (var (_, t) in tensors) t.Dispose();
            throw;
        }
        return new SafeTensorsFile(tensors, metadata);
    }

    private static byte[] BuildHeader(List<(string Name, Tensor Tensor)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                long bytes = tensor.NumberOfElements * tensor.ElementSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", SafeTensorsDType.Name(tensor.dtype));
                json.WriteStartArray("shape");
                foreach (long d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // The format allows trailing spaces; padding to 8 bytes keeps the data aligned for memory mapping.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        header.AsSpan((int)buffer.Length).Fill((byte)' ');
        return header;
    }

    private sealed record Spec(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    private static (List<Spec>, Dictionary<string, string>) ParseHeader(byte[] header, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: header is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: header must be a JSON object");
            var specs = new List<Spec>();
            var metadata = new Dictionary<string, string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                specs.Add(ParseSpec(property, source));
            }
            specs.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long expected = 0;
            foreach (var spec in specs)
            {
                // The format requires the data section to be covered exactly, without gaps or overlap.
                if (spec.Begin != expected)
                    throw new InvalidDataException($"{source}: tensor '{spec.Name}' starts at byte {spec.Begin}, expected {expected} (gap or overlap in data_offsets)");
                expected = spec.End;
            }
            return (specs, metadata);
        }
    }

    private static Spec ParseSpec(JsonProperty property, string source)
    {
        string name = property.Name;
        try
        {
            var e = property.Value;
            string dtypeName = e.GetProperty("dtype").GetString() ?? "";
            if (!SafeTensorsDType.TryParse(dtypeName, out var dtype))
                throw new InvalidDataException($"{source}: tensor '{name}' has unsupported dtype '{dtypeName}'");
            var shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"{source}: tensor '{name}' has a negative dimension in shape {TensorMemory.FormatShape(shape)}");
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new InvalidDataException($"{source}: tensor '{name}' has invalid data_offsets [{string.Join(", ", offsets)}]");
            long numel = 1;
            foreach (long d in shape) numel = checked(numel * d);
            long bytes = checked(numel * SafeTensorsDType.ElementSize(dtype));
            if (offsets[1] - offsets[0] != bytes)
                throw new InvalidDataException($"{source}: tensor '{name}' of shape {TensorMemory.FormatShape(shape)} {dtypeName} needs {bytes} bytes but data_offsets span {offsets[1] - offsets[0]}");
            return new Spec(name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' has a malformed header entry ({e.Message})", e);
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) throw new InvalidDataException($"{source}: truncated while reading {what}: got {total} of {buffer.Length} bytes");
            total += n;
        }
    }
}

/// <summary>The tensors of a safetensors file, in file order. Disposing frees them all.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    internal SafeTensorsFile(IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
        ByName = tensors.ToDictionary(t => t.Name, t => t.Tensor);
    }

    public IReadOnlyList<(string Name, Tensor Tensor)> Tensors { get; }
    public IReadOnlyDictionary<string, Tensor> ByName { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public Tensor this[string name] => ByName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no tensor named '{name}' (have: {string.Join(", ", ByName.Keys.Take(8))})");

    public void Dispose()
    {
        foreach (var (_, t) in Tensors) t.Dispose();
    }
}
