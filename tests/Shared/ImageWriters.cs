using System.Runtime.InteropServices;
using CommerceMM.Data.Imaging;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Writes PNG (libpng) and WebP (libwebp) files for tests, as users' catalogs hold them; the product only reads these
/// formats. JPEG comes from the product's own <see cref="JpegCodec"/>, CMYK JPEG from libturbojpeg.
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

    /// <summary>
    /// A CMYK JPEG as Photoshop saves one: the inks stored inverted (255 = none), with an Adobe segment, which
    /// libturbojpeg writes for CMYK. The inks are the plain ones for <paramref name="image"/>: K = 1 - max(R, G, B).
    /// </summary>
    public static byte[] PhotoshopCmykJpeg(RgbImage image, int quality = 95)
    {
        var inks = new byte[image.Width * image.Height * 4];
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            double r = image.Pixels[3 * i] / 255.0, g = image.Pixels[3 * i + 1] / 255.0, b = image.Pixels[3 * i + 2] / 255.0;
            double k = 1 - Math.Max(r, Math.Max(g, b)), white = Math.Max(1e-9, 1 - k);
            double[] cmyk = [(1 - r - k) / white, (1 - g - k) / white, (1 - b - k) / white, k];
            for (int c = 0; c < 4; c++) inks[4 * i + c] = (byte)Math.Round(255 * (1 - cmyk[c]));
        }
        IntPtr compressor = tjInitCompress(), output = IntPtr.Zero;
        nuint size = 0;
        try
        {
            fixed (byte* data = inks)
                if (tjCompress2(compressor, data, image.Width, image.Width * 4, image.Height, 11 /* TJPF_CMYK */, &output, &size, 0, quality, 0) != 0)
                    throw new IOException("libturbojpeg could not write a CMYK JPEG");
            byte[] jpeg = new ReadOnlySpan<byte>((void*)output, (int)size).ToArray();
            if (jpeg.AsSpan().IndexOf("Adobe"u8) < 0) throw new IOException("libturbojpeg wrote no Adobe segment");
            return jpeg;
        }
        finally
        {
            if (output != IntPtr.Zero) tjFree(output);
            tjDestroy(compressor);
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

    [LibraryImport("turbojpeg")] private static partial IntPtr tjInitCompress();
    [LibraryImport("turbojpeg")] private static partial int tjDestroy(IntPtr handle);
    [LibraryImport("turbojpeg")] private static partial void tjFree(IntPtr buffer);
    [LibraryImport("turbojpeg")]
    private static partial int tjCompress2(IntPtr handle, byte* source, int width, int pitch, int height, int pixelFormat, IntPtr* jpeg, nuint* size, int subsampling, int quality, int flags);

    [LibraryImport("libwebp.so.7")] private static partial nuint WebPEncodeRGB(byte* rgb, int width, int height, int stride, float quality, byte** output);
    [LibraryImport("libwebp.so.7")] private static partial void WebPFree(void* pointer);
}
