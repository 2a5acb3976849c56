using CommerceMM.Data.Fashion;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Tests.Imaging;

public class JpegCodecTests
{
    [Fact]
    public void EncodeDecode_FashionPhoto_RoundTripsWithinTwoGreyLevelsOnAverage()
    {
        var photo = FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Test, limit: 1)[0].Image;
        using var codec = new JpegCodec();

        byte[] jpeg = codec.EncodeGray(photo, quality: 95);
        var decoded = codec.DecodeGray(jpeg);

        Assert.Equal((0xFF, 0xD8), (jpeg[0], jpeg[1])); // SOI marker: a real JPEG stream
        Assert.Equal((28, 28), (decoded.Width, decoded.Height));
        double meanError = photo.Pixels.Zip(decoded.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 2.0, $"mean absolute error {meanError:F2} grey levels");
    }

    [Fact]
    public void DecodeGray_TruncatedJpeg_ThrowsJpegException()
    {
        var photo = FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Test, limit: 1)[0].Image;
        using var codec = new JpegCodec();
        byte[] jpeg = codec.EncodeGray(photo);

        Assert.Throws<JpegException>(() => codec.DecodeGray(jpeg.AsSpan(0, jpeg.Length / 2)));
    }

    [Fact]
    public void DecodeGray_NotAJpeg_ThrowsJpegException()
    {
        using var codec = new JpegCodec();
        Assert.Throws<JpegException>(() => codec.DecodeGray("hello, not an image"u8));
        Assert.Throws<JpegException>(() => codec.DecodeGray(ReadOnlySpan<byte>.Empty));
    }
}
