namespace CommerceMM.Data.Imaging;

/// <summary>An 8-bit RGB image, row-major and interleaved (R, G, B per pixel), no padding between rows.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"a {width}x{height} RGB image needs {width * height * 3} bytes, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Interleaved pixels; the red of (x, y) is at (y * Width + x) * 3.</summary>
    public byte[] Pixels { get; }

    /// <summary>The luma of every pixel (ITU-R BT.601 weights, as libjpeg converts).</summary>
    public GrayImage ToGray()
    {
        var gray = new byte[Width * Height];
        for (int i = 0; i < gray.Length; i++)
        {
            int r = Pixels[3 * i], g = Pixels[3 * i + 1], b = Pixels[3 * i + 2];
            gray[i] = (byte)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
        }
        return new GrayImage(Width, Height, gray);
    }

    public static RgbImage FromGray(GrayImage gray)
    {
        ArgumentNullException.ThrowIfNull(gray);
        var rgb = new byte[gray.Pixels.Length * 3];
        for (int i = 0; i < gray.Pixels.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray.Pixels[i];
        return new RgbImage(gray.Width, gray.Height, rgb);
    }
}
