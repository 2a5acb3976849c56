using System.Runtime.InteropServices;

namespace CommerceMM.Data.Imaging;

/// <summary>
/// Grey and RGB JPEG encode/decode through libturbojpeg. A turbojpeg handle is not thread-safe, so an instance
/// must be used by one thread at a time; <see cref="ForCurrentThread"/> hands out one per thread.
/// </summary>
/// <remarks>
/// CMYK JPEGs (print artwork, often in product catalogs) decode too: libturbojpeg gives their inks, which become RGB
/// by the plain formula browsers without colour management use. Photoshop, whose files carry an Adobe segment, stores
/// the inks inverted.
/// </remarks>
public sealed class JpegCodec : IDisposable
{
    [ThreadStatic] private static JpegCodec? s_threadCodec;

    private IntPtr _compressor;
    private IntPtr _decompressor;

    /// <summary>A codec owned by the calling thread (created on first use, lives as long as the thread).</summary>
    public static JpegCodec ForCurrentThread => s_threadCodec ??= new JpegCodec();

    public byte[] EncodeGray(GrayImage image, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Encode(image.Pixels, image.Width, image.Height, TurboJpegNative.PixelFormatGray, 1, TurboJpegNative.SubsamplingGray, quality);
    }

    private byte[] Encode(byte[] pixels, int width, int height, int pixelFormat, int channels, int subsampling, int quality)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        ObjectDisposedException.ThrowIf(_compressor == (IntPtr)(-1), this);
        if (_compressor == IntPtr.Zero)
        {
            _compressor = TurboJpegNative.tjInitCompress();
            if (_compressor == IntPtr.Zero) throw new JpegException("libturbojpeg could not create a compressor");
        }
        unsafe
        {
            IntPtr buffer = IntPtr.Zero;
            nuint size = 0;
            try
            {
                fixed (byte* src = pixels)
                {
                    int rc = TurboJpegNative.tjCompress2(_compressor, src, width, width * channels, height,
                        pixelFormat, &buffer, &size, subsampling, quality, TurboJpegNative.FlagAccurateDct);
                    if (rc != 0) throw new JpegException($"JPEG encode failed: {ErrorText(_compressor)}");
                }
                return new ReadOnlySpan<byte>((void*)buffer, checked((int)size)).ToArray();
            }
            finally
            {
                // turbojpeg allocated the output buffer itself; it must free it too.
                if (buffer != IntPtr.Zero) TurboJpegNative.tjFree(buffer);
            }
        }
    }

    /// <summary>Decodes any baseline/progressive JPEG to grey.</summary>
    /// <exception cref="JpegException">The bytes are not a decodable JPEG (truncated, corrupt, empty).</exception>
    public GrayImage DecodeGray(ReadOnlySpan<byte> jpeg)
    {
        var (width, height, pixels) = Decode(jpeg, TurboJpegNative.PixelFormatGray, atLeast: 0);
        return new GrayImage(width, height, pixels);
    }

    /// <summary>Decodes any baseline/progressive JPEG to RGB (a grey one becomes three equal channels).</summary>
    /// <param name="atLeast">
    /// decode at the smallest of libjpeg's M/8 scales that keeps both sides at least this long (0: full size): a photo
    /// that is shrunk afterwards anyway decodes several times faster, with the DCT doing the first reduction
    /// </param>
    /// <exception cref="JpegException">The bytes are not a decodable JPEG (truncated, corrupt, empty).</exception>
    /// <exception cref="ImageException">The header claims more than <see cref="ImageLimits.MaxPixels"/> to decode, or no pixels.</exception>
    public RgbImage DecodeRgb(ReadOnlySpan<byte> jpeg, int atLeast = 0)
    {
        var (width, height, pixels) = Decode(jpeg, TurboJpegNative.PixelFormatRgb, atLeast);
        return new RgbImage(width, height, pixels);
    }

    public byte[] EncodeRgb(RgbImage image, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        // 4:4:4: at the small sizes models train on, chroma subsampling visibly smears colour edges.
        return Encode(image.Pixels, image.Width, image.Height, TurboJpegNative.PixelFormatRgb, 3, TurboJpegNative.Subsampling444, quality);
    }

    private (int Width, int Height, byte[] Pixels) Decode(ReadOnlySpan<byte> jpeg, int pixelFormat, int atLeast)
    {
        ObjectDisposedException.ThrowIf(_decompressor == (IntPtr)(-1), this);
        if (jpeg.IsEmpty) throw new JpegException("JPEG decode failed: no bytes");
        if (_decompressor == IntPtr.Zero)
        {
            _decompressor = TurboJpegNative.tjInitDecompress();
            if (_decompressor == IntPtr.Zero) throw new JpegException("libturbojpeg could not create a decompressor");
        }
        int channels = pixelFormat == TurboJpegNative.PixelFormatGray ? 1 : 3;
        unsafe
        {
            fixed (byte* src = jpeg)
            {
                int width, height, subsampling, colorspace;
                if (TurboJpegNative.tjDecompressHeader3(_decompressor, src, (nuint)jpeg.Length, &width, &height, &subsampling, &colorspace) != 0)
                    throw new JpegException($"JPEG header unreadable: {ErrorText(_decompressor)}");
                var (stored, decoded) = ((width, height), Scaled(width, height, atLeast));
                (width, height) = decoded;
                ImageLimits.Check("JPEG", width, height, stored == decoded ? "" : $" (stored as {stored.width}x{stored.height})");
                // libturbojpeg converts CMYK to nothing else: it gives the inks, converted here.
                bool inks = colorspace is TurboJpegNative.ColorspaceCmyk or TurboJpegNative.ColorspaceYcck;
                int format = inks ? TurboJpegNative.PixelFormatCmyk : pixelFormat, perPixel = inks ? 4 : channels;
                var pixels = new byte[checked(width * height * perPixel)];
                fixed (byte* dst = pixels)
                {
                    // Stop on warnings: a truncated file otherwise "decodes" with grey filler rows.
                    int rc = TurboJpegNative.tjDecompress2(_decompressor, src, (nuint)jpeg.Length, dst, width, width * perPixel, height,
                        format, TurboJpegNative.FlagAccurateDct | TurboJpegNative.FlagStopOnWarning);
                    if (rc != 0) throw new JpegException($"JPEG decode failed: {ErrorText(_decompressor)}");
                }
                return (width, height, inks ? FromInks(pixels, channels, inverted: JpegSegments.TryFind(jpeg, 0xEE, "Adobe"u8, out _)) : pixels);
            }
        }
    }

    /// <summary>
    /// RGB (or grey, by libjpeg's weights) from CMYK: each channel is white less its ink, less black; R = (1 - C)(1 - K).
    /// Without the file's colour profile this is an approximation, the one browsers without colour management show.
    /// </summary>
    private static byte[] FromInks(byte[] cmyk, int channels, bool inverted)
    {
        int count = cmyk.Length / 4;
        var result = new byte[count * channels];
        for (int i = 0; i < count; i++)
        {
            // "Paper" is 255 - ink; an inverted file stores it as is.
            int Paper(int channel) => inverted ? cmyk[i * 4 + channel] : 255 - cmyk[i * 4 + channel];
            int k = Paper(3);
            int r = (Paper(0) * k + 127) / 255, g = (Paper(1) * k + 127) / 255, b = (Paper(2) * k + 127) / 255;
            if (channels == 3) (result[i * 3], result[i * 3 + 1], result[i * 3 + 2]) = ((byte)r, (byte)g, (byte)b);
            else result[i] = (byte)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
        }
        return result;
    }

    /// <summary>The size at the smallest scale M/8 (M = 1..8) whose shorter side still reaches <paramref name="atLeast"/>.</summary>
    private static (int Width, int Height) Scaled(int width, int height, int atLeast)
    {
        for (int m = 1; m < 8 && atLeast > 0; m++)
        {
            // TJSCALED in turbojpeg.h rounds up.
            int w = (width * m + 7) / 8, h = (height * m + 7) / 8;
            if (Math.Min(w, h) >= atLeast) return (w, h);
        }
        return (width, height);
    }

    public void Dispose()
    {
        Destroy(ref _compressor);
        Destroy(ref _decompressor);
        if (ReferenceEquals(s_threadCodec, this)) s_threadCodec = null;
    }

    private static void Destroy(ref IntPtr handle)
    {
        if (handle != IntPtr.Zero && handle != (IntPtr)(-1)) TurboJpegNative.tjDestroy(handle);
        handle = (IntPtr)(-1);
    }

    private static string ErrorText(IntPtr handle) => Marshal.PtrToStringUTF8(TurboJpegNative.tjGetErrorStr2(handle)) ?? "unknown error";
}

/// <summary>A JPEG could not be encoded or decoded.</summary>
public sealed class JpegException(string message) : ImageException(message);
