using CommerceMM.Data.Imaging;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Data.Tests.Imaging;

public class ImageFileTests
{
    /// <summary>Horizontal bands of red, green and blue over a left-to-right grey ramp: every channel and position differ.</summary>
    private static RgbImage Bands(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int band = 3 * y / height, at = (y * width + x) * 3;
                byte ramp = (byte)(40 + 160 * x / width);
                for (int c = 0; c < 3; c++) pixels[at + c] = c == band ? (byte)230 : ramp;
            }
        return new RgbImage(width, height, pixels);
    }

    private static double MeanError(RgbImage a, RgbImage b) => a.Pixels.Zip(b.Pixels, (p, q) => Math.Abs(p - q)).Average();

    [Theory]
    [InlineData("jpg", 3.0)]
    [InlineData("png", 0.0)]
    [InlineData("webp", 6.0)]
    public void Decode_EachFormat_GivesTheImageBackInRgbOrder(string format, double tolerance)
    {
        using var dir = new TempDirectory("images");
        var image = Bands(60, 45);
        string path = Path.Combine(dir.Path, "a." + format);
        if (format == "jpg") ImageWriters.Jpeg(path, image, quality: 98);
        else if (format == "png") ImageWriters.Png(path, image);
        else ImageWriters.Webp(path, image, quality: 100);

        var decoded = ImageFile.Decode(File.ReadAllBytes(path));

        Assert.Equal((60, 45), (decoded.Width, decoded.Height));
        Assert.True(MeanError(image, decoded) <= tolerance, $"mean error {MeanError(image, decoded):F2}");
    }

    [Fact]
    public void Decode_ATransparentPng_PutsItOnWhite()
    {
        using var dir = new TempDirectory("images");
        var image = Bands(10, 9);
        var alpha = Enumerable.Range(0, 90).Select(i => i % 10 < 5 ? (byte)0 : (byte)255).ToArray();
        string path = Path.Combine(dir.Path, "cut-out.png");
        ImageWriters.Png(path, image, alpha);

        var decoded = ImageFile.Decode(File.ReadAllBytes(path));

        for (int i = 0; i < 90; i++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(i % 10 < 5 ? 255 : image.Pixels[3 * i + c], decoded.Pixels[3 * i + c]);
    }

    [Fact]
    public void DecodeRgb_WithAtLeast_DecodesALargeJpegAtTheSmallestScaleThatStillCoversIt()
    {
        var jpeg = new JpegCodec().EncodeRgb(Bands(800, 600));

        Assert.Equal((800, 600), Size(JpegCodec.ForCurrentThread.DecodeRgb(jpeg)));
        Assert.Equal((200, 150), Size(JpegCodec.ForCurrentThread.DecodeRgb(jpeg, atLeast: 100)));   // 1/8 would be 75 high
        Assert.Equal((100, 75), Size(JpegCodec.ForCurrentThread.DecodeRgb(jpeg, atLeast: 75)));
        Assert.Equal((800, 600), Size(ImageFile.Decode(jpeg, atLeast: 601)));
    }

    private static (int, int) Size(RgbImage image) => (image.Width, image.Height);

    [Fact]
    public void Decode_WhatIsNoImage_SaysWhatItStartsWith()
    {
        var e = Assert.Throws<ImageException>(() => ImageFile.Decode("<!DOCTYPE html><p>404</p>"u8));
        Assert.Equal("not a JPEG, PNG or WebP file (it starts with 3c 21 44 4f 43 54 59 50 \"<!DOCTYP\")", e.Message);
        Assert.Equal("the file is empty", Assert.Throws<ImageException>(() => ImageFile.Decode([])).Message);
    }

    [Theory]
    [InlineData("jpg")]
    [InlineData("png")]
    [InlineData("webp")]
    public void Decode_ATruncatedFile_IsAnImageException(string format)
    {
        using var dir = new TempDirectory("images");
        string path = Path.Combine(dir.Path, "a." + format);
        var image = Bands(64, 64);
        if (format == "jpg") ImageWriters.Jpeg(path, image);
        else if (format == "png") ImageWriters.Png(path, image);
        else ImageWriters.Webp(path, image);
        byte[] bytes = File.ReadAllBytes(path);

        Assert.ThrowsAny<ImageException>(() => ImageFile.Decode(bytes.AsSpan(0, bytes.Length * 2 / 3)));
    }
}
