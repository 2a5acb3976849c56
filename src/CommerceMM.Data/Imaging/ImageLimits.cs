namespace CommerceMM.Data.Imaging;

/// <summary>How large an image may be decoded: checked from its header, before anything is allocated.</summary>
public static class ImageLimits
{
    /// <summary>8192 x 8192: 192 MiB as RGB. A camera's 45-megapixel photo fits; a corrupt header claiming 60000 x 60000 does not.</summary>
    public const long MaxPixels = 8192L * 8192;

    /// <exception cref="ImageException">More pixels than <see cref="MaxPixels"/>, or a side of none.</exception>
    public static void Check(string format, long width, long height, string stored = "")
    {
        if (width <= 0 || height <= 0) throw new ImageException($"{format} size {width}x{height}{stored} is no image");
        if (width * height > MaxPixels)
            throw new ImageException($"{format} size {width}x{height}{stored} is {width * height / 1e6:0.0} megapixels, more than the " +
                                     $"{MaxPixels / 1e6:0.0} a decode may take: store it smaller");
    }
}
