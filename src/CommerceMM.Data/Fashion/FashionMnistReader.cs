using System.Buffers.Binary;
using System.IO.Compression;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Fashion;

/// <summary>
/// Reads Zalando's Fashion-MNIST in its IDX form (gzip), as installed by the Debian package
/// <c>dataset-fashion-mnist</c>: 28×28 grey photos (white item on black) with labels 0..9.
/// </summary>
public static class FashionMnistReader
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const string DebianPackage = "dataset-fashion-mnist";

    private const int ImageMagic = 0x00000803;
    private const int LabelMagic = 0x00000801;

    /// <summary>The split's file names: "train" or "t10k" (the test split).</summary>
    public static (string Images, string Labels) Files(string directory, FashionSplit split)
    {
        string prefix = split == FashionSplit.Train ? "train" : "t10k";
        return (Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"));
    }

    /// <summary>Reads up to <paramref name="limit"/> photos with their labels, in file order.</summary>
    /// <exception cref="FileNotFoundException">The files are missing; the message names the Debian package.</exception>
    /// <exception cref="InvalidDataException">A file is not IDX, or images and labels disagree.</exception>
    public static IReadOnlyList<(GrayImage Image, int Label)> Read(string directory, FashionSplit split, int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var (imagesPath, labelsPath) = Files(directory, split);
        foreach (string path in new[] { imagesPath, labelsPath })
            if (!File.Exists(path))
                throw new FileNotFoundException(
                    $"Fashion-MNIST file '{path}' is missing; install the Debian package '{DebianPackage}' (apt-get install {DebianPackage}, or run tools/bootstrap)", path);

        byte[] labels = ReadGzip(labelsPath);
        byte[] images = ReadGzip(imagesPath);
        int labelCount = Header(labels, labelsPath, LabelMagic, dims: 1, out _, out _);
        int imageCount = Header(images, imagesPath, ImageMagic, dims: 3, out int rows, out int cols);
        if (labelCount != imageCount)
            throw new InvalidDataException($"'{imagesPath}' holds {imageCount} images but '{labelsPath}' holds {labelCount} labels");
        int count = Math.Min(limit, imageCount);
        int pixels = rows * cols;
        int imageStart = 16, labelStart = 8;
        if (images.Length < imageStart + (long)imageCount * pixels || labels.Length < labelStart + labelCount)
            throw new InvalidDataException($"'{imagesPath}' or '{labelsPath}' is shorter than its header says");

        var result = new (GrayImage, int)[count];
        for (int i = 0; i < count; i++)
        {
            int label = labels[labelStart + i];
            if (label > 9) throw new InvalidDataException($"'{labelsPath}' label {i} is {label}; Fashion-MNIST labels are 0..9");
            result[i] = (new GrayImage(cols, rows, images.AsSpan(imageStart + i * pixels, pixels).ToArray()), label);
        }
        return result;
    }

    private static byte[] ReadGzip(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        try { gzip.CopyTo(memory); }
        catch (InvalidDataException e) { throw new InvalidDataException($"'{path}' is not a valid gzip file: {e.Message}", e); }
        return memory.ToArray();
    }

    /// <summary>Checks the IDX magic and returns the item count (rows/cols for images).</summary>
    private static int Header(byte[] data, string path, int magic, int dims, out int rows, out int cols)
    {
        rows = cols = 0;
        int headerBytes = 4 + 4 * dims;
        if (data.Length < headerBytes || BinaryPrimitives.ReadInt32BigEndian(data) != magic)
            throw new InvalidDataException($"'{path}' is not an IDX file (expected magic 0x{magic:X8})");
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        if (dims == 3)
        {
            rows = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
            cols = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12));
            if (rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096)
                throw new InvalidDataException($"'{path}' declares {rows}x{cols} images");
        }
        if (count < 0) throw new InvalidDataException($"'{path}' declares {count} items");
        return count;
    }
}

public enum FashionSplit
{
    Train,
    Test,
}
