using CommerceMM.Tests.Shared;
using System.Buffers.Binary;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors.Tests;

public class SafeTensorsTests
{
    private static byte[] WriteToBytes(params (string, Tensor)[] tensors)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return stream.ToArray();
    }

    private static SafeTensorsFile ReadBytes(byte[] bytes) => SafeTensors.Read(new MemoryStream(bytes), "test.safetensors");

    [Fact]
    public void Write_ThenRead_RoundTripsEveryDTypeShapeAndMetadata()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(5);
        var f32 = torch.randn([2, 3], generator: g);
        var bf16 = torch.randn([4], generator: g).to(ScalarType.BFloat16);
        var i64 = torch.tensor(new long[] { -1, 0, long.MaxValue });
        var flags = torch.tensor(new[] { true, false, true });
        var scalar = torch.tensor(3.5f);
        var nonContiguous = torch.randn([3, 2], generator: g).T;

        using var file = ReadBytes(WriteToBytes(("f32", f32), ("bf16", bf16), ("i64", i64), ("flags", flags), ("scalar", scalar), ("t", nonContiguous)));

        Assert.Equal(new[] { "f32", "bf16", "i64", "flags", "scalar", "t" }, file.Tensors.Select(t => t.Name));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(f32.data<float>().ToArray(), file["f32"].data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, file["bf16"].dtype);
        Assert.Equal(bf16.to(ScalarType.Float32).data<float>().ToArray(), file["bf16"].to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(i64.data<long>().ToArray(), file["i64"].data<long>().ToArray());
        Assert.Equal(flags.data<bool>().ToArray(), file["flags"].data<bool>().ToArray());
        Assert.Empty(file["scalar"].shape);
        Assert.Equal(new long[] { 2, 3 }, file["t"].shape);
        Assert.Equal(nonContiguous.contiguous().data<float>().ToArray(), file["t"].data<float>().ToArray());
    }

    [Fact]
    public void ToBytes_IsWhatWriteWrites_ForViewsAndNonContiguousTensorsToo()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(6);
        var flat = torch.randn([40], generator: g);
        (string, Tensor)[] tensors =
        [
            ("view", flat.narrow(0, 7, 12).view(3, 4)),   // a view into a larger buffer, as a flat optimizer's state
            ("t", torch.randn([3, 5], generator: g).T),
            ("bf16", torch.randn([5], generator: g).to(ScalarType.BFloat16)),
            ("empty", torch.zeros([0, 3])),
        ];
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        Assert.Equal(stream.ToArray(), SafeTensors.ToBytes(tensors, metadata));
    }

    [Fact]
    public void Read_TruncatedData_ThrowsNamingTheTensor()
    {
        using var t = torch.ones(100);
        byte[] bytes = WriteToBytes(("weights", t));
        var error = Assert.Throws<InvalidDataException>(() => ReadBytes(bytes[..^10]));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Read_TruncatedNonSeekableStream_ThrowsNamingTheTensor()
    {
        using var t = torch.ones(100);
        byte[] bytes = WriteToBytes(("weights", t));
        using var pipe = new NonSeekableStream(bytes[..^10]);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(pipe, "pipe"));
        Assert.Contains("tensor 'weights'", error.Message);
    }

    [Fact]
    public void Read_ImplausibleHeaderLength_ThrowsNotSafeTensors()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => ReadBytes(bytes));
        Assert.Contains("header length", error.Message);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unsupported dtype 'Q7'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "negative dimension")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "starts at byte 4, expected 0")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "malformed header entry")]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    public void Read_CorruptHeader_ThrowsNamingTheProblem(string header, string expected)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        var error = Assert.Throws<InvalidDataException>(() => ReadBytes(bytes));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Write_DuplicateNames_Throws()
    {
        using var t = torch.ones(1);
        Assert.Throws<ArgumentException>(() => WriteToBytes(("a", t), ("a", t)));
    }

    [Fact]
    public void Write_PyTorchReadsIt_AndWeReadPyTorchsFile()
    {
        // The Python side (tools/parity/safetensors_io.py) is what the parity test and the reference use.
        string dir = Directory.CreateTempSubdirectory("cmm-st-").FullName;
        try
        {
            using var scope = torch.NewDisposeScope();
            var original = torch.arange(0, 12, 1, ScalarType.Float32).reshape(3, 4);
            SafeTensors.Write(Path.Combine(dir, "in.safetensors"), [("m", original), ("b", torch.tensor(new[] { true, false }))]);
            File.WriteAllText(Path.Combine(dir, "roundtrip.py"),
                "import sys; sys.path.insert(0, sys.argv[3])\nfrom safetensors_io import load, save\nt, m = load(sys.argv[1])\nsave(sys.argv[2], {'m2': t['m'] * 2, 'b': t['b']})\n");
            PyTorchReference.Run(Path.Combine(dir, "roundtrip.py"), Path.Combine(dir, "in.safetensors"), Path.Combine(dir, "out.safetensors"),
                Path.Combine(PyTorchReference.RepoRoot, "tools/parity"));
            using var result = SafeTensors.Read(Path.Combine(dir, "out.safetensors"));
            Assert.Equal((original * 2.0).data<float>().ToArray(), result["m2"].data<float>().ToArray());
            Assert.Equal(new[] { true, false }, result["b"].data<bool>().ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
    }
}
