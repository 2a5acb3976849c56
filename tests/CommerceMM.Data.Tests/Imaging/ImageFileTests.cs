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
    public void Decode_APhotoshopCmykJpeg_GivesItsColours()
    {
        var image = Bands(48, 36);
        byte[] cmyk = ImageWriters.PhotoshopCmykJpeg(image);

        var decoded = ImageFile.Decode(cmyk);

        Assert.True(MeanError(image, decoded) <= 3.0, $"mean error {MeanError(image, decoded):F2}");
        Assert.Equal((24, 18), Size(ImageFile.Decode(cmyk, atLeast: 18))); // scaled like any JPEG
        var grey = JpegCodec.ForCurrentThread.DecodeGray(cmyk);
        Assert.InRange(grey.Pixels[0] - (299 * image.Pixels[0] + 587 * image.Pixels[1] + 114 * image.Pixels[2]) / 1000, -3, 3);
    }

    [Fact]
    public void Decode_APhotoWiderThan8192_Decodes_ButAHeaderClaimingTooManyPixelsIsRefusedBeforeAnythingIsAllocated()
    {
        var wide = ImageFile.Decode(new JpegCodec().EncodeRgb(Bands(9000, 300)));
        Assert.Equal((9000, 300), Size(wide));

        // A corrupt header: a small JPEG's frame claims 60000 x 50000.
        byte[] jpeg = new JpegCodec().EncodeRgb(Bands(16, 16));
        int frame = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        (jpeg[frame + 5], jpeg[frame + 6], jpeg[frame + 7], jpeg[frame + 8]) = (50000 >> 8, 50000 & 0xFF, 60000 >> 8, 60000 & 0xFF);
        var refused = Assert.Throws<ImageException>(() => ImageFile.Decode(jpeg));
        Assert.Equal("JPEG size 60000x50000 is 3000.0 megapixels, more than the 67.1 a decode may take: store it smaller", refused.Message);
        // Scaled down for a small square it fits, and then fails as the corrupt file it is.
        Assert.StartsWith("JPEG decode failed", Assert.Throws<JpegException>(() => ImageFile.Decode(jpeg, atLeast: 224)).Message);
    }

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

    /// <summary>A JPEG of a 40×20 image with a red top-left quarter, carrying an EXIF orientation tag in either byte order.</summary>
    private static byte[] JpegWithOrientation(int orientation, bool bigEndian)
    {
        var image = new RgbImage(40, 20, new byte[40 * 20 * 3]);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 40; x++)
            {
                bool red = x < 20 && y < 10;
                (image.Pixels[(y * 40 + x) * 3], image.Pixels[(y * 40 + x) * 3 + 1], image.Pixels[(y * 40 + x) * 3 + 2]) = red ? ((byte)230, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255);
            }
        byte[] jpeg = new JpegCodec().EncodeRgb(image, quality: 98);
        byte o = (byte)orientation;
        byte[] tiff = bigEndian
            ? [(byte)'M', (byte)'M', 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0]
            : [(byte)'I', (byte)'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, o, 0, 0, 0, 0, 0, 0, 0];
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        int length = payload.Length + 2;
        return [.. jpeg[..2], 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg[2..]];
    }

    [Theory]
    [InlineData(1, false, 40, 20, "top-left")]
    [InlineData(3, true, 40, 20, "bottom-right")]
    [InlineData(6, false, 20, 40, "top-right")]    // a phone held upright: stored on its side
    [InlineData(6, true, 20, 40, "top-right")]
    [InlineData(8, false, 20, 40, "bottom-left")]
    public void Decode_AJpegWithAnExifOrientation_TurnsItUpright(int orientation, bool bigEndian, int width, int height, string redQuarter)
    {
        byte[] jpeg = JpegWithOrientation(orientation, bigEndian);
        Assert.Equal(orientation, ExifOrientation.Read(jpeg));

        var upright = ImageFile.Decode(jpeg);

        Assert.Equal((width, height), (upright.Width, upright.Height));
        int Red(int x, int y) => upright.Pixels[(y * width + x) * 3 + 1] < 60 ? 1 : 0;   // red: no green
        var (left, top) = (width / 4, height / 4);
        var (right, bottom) = (width * 3 / 4, height * 3 / 4);
        var quarters = new Dictionary<string, int>
        {
            ["top-left"] = Red(left, top), ["top-right"] = Red(right, top), ["bottom-left"] = Red(left, bottom), ["bottom-right"] = Red(right, bottom),
        };
        Assert.Equal([redQuarter], quarters.Where(q => q.Value == 1).Select(q => q.Key));
    }
}
