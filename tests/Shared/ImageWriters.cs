using System.Runtime.InteropServices;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Writes PNG (libpng) and WebP (libwebp) files for tests, as users' catalogs hold them; the product only reads these
/// formats. JPEG comes from the product's own <see cref="JpegCodec"/>.
/// </summary>
internal static unsafe partial class ImageWriters
{
    public static void Jpeg(string path, RgbImage image, int quality = 92) => File.WriteAllBytes(path, new JpegCodec().EncodeRgb(image, quality));

    /// <param name="alpha">per-pixel opacity (0 transparent); null writes plain RGB</param>
    public static void Png(string path, RgbImage image, byte[]? alpha = null)
    {
        int channels = alpha is null ? 3 : 4;
        var pixels = new byte[image.Width * image.Height * channels];
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            for (int c = 0; c < 3; c++) pixels[i * channels + c] = image.Pixels[i * 3 + c];
            if (alpha is not null) pixels[i * 4 + 3] = alpha[i];
        }
        var control = new PngImage { Version = 1, Width = (uint)image.Width, Height = (uint)image.Height, Format = alpha is null ? 2u : 3u };
        fixed (byte* data = pixels)
            if (png_image_write_to_file(&control, path, 0, data, image.Width * channels, IntPtr.Zero) == 0)
                throw new IOException($"libpng could not write {path}");
    }

    public static void Webp(string path, RgbImage image, float quality = 90)
    {
        byte* output = null;
        nuint size;
        fixed (byte* data = image.Pixels) size = WebPEncodeRGB(data, image.Width, image.Height, image.Width * 3, quality, &output);
        try
        {
            if (size == 0) throw new IOException($"libwebp could not encode {path}");
            File.WriteAllBytes(path, new ReadOnlySpan<byte>(output, (int)size).ToArray());
        }
        finally
        {
            WebPFree(output);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PngImage
    {
        public IntPtr Opaque;
        public uint Version, Width, Height, Format, Flags, ColormapEntries, WarningOrError;
        public fixed byte Message[64];
    }

    [LibraryImport("libpng16.so.16", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int png_image_write_to_file(PngImage* image, string file, int convertTo8Bit, byte* buffer, int rowStride, IntPtr colormap);

    [LibraryImport("libwebp.so.7")] private static partial nuint WebPEncodeRGB(byte* rgb, int width, int height, int stride, float quality, byte** output);
    [LibraryImport("libwebp.so.7")] private static partial void WebPFree(void* pointer);
}
