using System.Text;

namespace CommerceMM.Data.Imaging;

/// <summary>
/// Reads the image files a user's catalog points at: JPEG (libturbojpeg), PNG (libpng) and WebP (libwebp), told
/// apart by their first bytes, not their names. Transparent pixels are put on white, as product photos are shown, and
/// a JPEG's EXIF orientation is applied, as a phone's photo is shown.
/// </summary>
public static class ImageFile
{
    public const string Formats = "JPEG, PNG or WebP";

    /// <param name="atLeast">a JPEG may be decoded at a reduced scale that keeps both sides at least this long (see <see cref="JpegCodec.DecodeRgb"/>)</param>
    /// <exception cref="ImageException">Not one of the formats, truncated, corrupt, or more than <see cref="ImageLimits.MaxPixels"/> pixels to decode.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> bytes, int atLeast = 0) => Sniff(bytes) switch
    {
        "JPEG" => ExifOrientation.Upright(JpegCodec.ForCurrentThread.DecodeRgb(bytes, atLeast), ExifOrientation.Read(bytes)),
        "PNG" => DecodePng(bytes),
        "WebP" => DecodeWebp(bytes),
        _ => throw new ImageException(bytes.IsEmpty ? "the file is empty" : $"not a {Formats} file (it starts with {Describe(bytes)})"),
    };

    /// <summary>"JPEG", "PNG", "WebP", or null.</summary>
    public static string? Sniff(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }) ? "JPEG"
        : bytes.StartsWith(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }) ? "PNG"
        : bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8) ? "WebP"
        : null;

    private static unsafe RgbImage DecodePng(ReadOnlySpan<byte> bytes)
    {
        var image = new PngNative.Image { Version = PngNative.ImageVersion };
        fixed (byte* src = bytes)
        {
            try
            {
                if (PngNative.png_image_begin_read_from_memory(&image, src, (nuint)bytes.Length) == 0)
                    throw new ImageException($"PNG header unreadable: {Message(&image)}");
                ImageLimits.Check("PNG", image.Width, image.Height);
                image.Format = PngNative.FormatRgb;
                var pixels = new byte[checked((int)image.Width * (int)image.Height * 3)];
                var white = new PngNative.Color { Red = 255, Green = 255, Blue = 255 };
                fixed (byte* dst = pixels)
                    if (PngNative.png_image_finish_read(&image, &white, dst, (int)image.Width * 3, IntPtr.Zero) == 0)
                        throw new ImageException($"PNG decode failed: {Message(&image)}");
                return new RgbImage((int)image.Width, (int)image.Height, pixels);
            }
            finally
            {
                PngNative.png_image_free(&image);
            }
        }
    }

    private static unsafe RgbImage DecodeWebp(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* src = bytes)
        {
            int width, height;
            if (WebpNative.WebPGetInfo(src, (nuint)bytes.Length, &width, &height) == 0)
                throw new ImageException("WebP header unreadable");
            ImageLimits.Check("WebP", width, height);
            byte* decoded = WebpNative.WebPDecodeRGB(src, (nuint)bytes.Length, &width, &height);
            if (decoded == null) throw new ImageException("WebP decode failed (truncated or corrupt, or an animation: use a still image)");
            try
            {
                return new RgbImage(width, height, new ReadOnlySpan<byte>(decoded, width * height * 3).ToArray());
            }
            finally
            {
                WebpNative.WebPFree(decoded);
            }
        }
    }

    private static unsafe string Message(PngNative.Image* image)
    {
        var text = new ReadOnlySpan<byte>(image->Message, 64);
        int end = text.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? text : text[..end]);
    }

    /// <summary>The first bytes as hex, with text when printable, e.g. "3c 68 74 6d (&lt;htm)": an HTML error page saved as .jpg is common.</summary>
    private static string Describe(ReadOnlySpan<byte> bytes)
    {
        var head = bytes[..Math.Min(8, bytes.Length)];
        string hex = Convert.ToHexString(head).ToLowerInvariant();
        hex = string.Join(' ', Enumerable.Range(0, head.Length).Select(i => hex.Substring(2 * i, 2)));
        bool printable = head.ToArray().All(b => b is >= 0x20 and < 0x7F);
        return printable ? $"{hex} \"{Encoding.ASCII.GetString(head)}\"" : hex;
    }
}
