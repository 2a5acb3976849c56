using System.Buffers.Binary;

namespace CommerceMM.Data.Imaging;

/// <summary>
/// The EXIF orientation of a JPEG, and the turn that shows it upright. Phone cameras store the sensor's pixels and
/// record how the phone was held in this tag; libjpeg ignores it, so a users' photo taken upright would otherwise reach
/// the model on its side.
/// </summary>
public static class ExifOrientation
{
    private const ushort OrientationTag = 0x0112;

    /// <summary>The orientation (1..8, 1 = as stored), or 1 when the JPEG has no readable EXIF orientation.</summary>
    public static int Read(ReadOnlySpan<byte> jpeg) =>
        JpegSegments.TryFind(jpeg, 0xE1, "Exif\0\0"u8, out var tiff) ? FromTiff(tiff) : 1;

    private static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return 1;
        bool little = tiff.StartsWith("II"u8);
        if (!little && !tiff.StartsWith("MM"u8)) return 1;
        uint ifd = U32(tiff, 4, little);
        if (ifd > (uint)tiff.Length - 2) return 1;
        int entries = U16(tiff, (int)ifd, little);
        for (int e = 0; e < entries; e++)
        {
            int entry = (int)ifd + 2 + 12 * e;
            if (entry + 12 > tiff.Length) break;
            if (U16(tiff, entry, little) == OrientationTag) return U16(tiff, entry + 8, little) is var o and >= 1 and <= 8 ? o : 1;
        }
        return 1;
    }

    private static ushort U16(ReadOnlySpan<byte> b, int i, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b[i..]) : BinaryPrimitives.ReadUInt16BigEndian(b[i..]);

    private static uint U32(ReadOnlySpan<byte> b, int i, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b[i..]) : BinaryPrimitives.ReadUInt32BigEndian(b[i..]);

    /// <summary>The image as it is meant to be seen under <paramref name="orientation"/> (EXIF 1..8); orientations 5..8 swap width and height.</summary>
    public static RgbImage Upright(RgbImage stored, int orientation)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (orientation is <= 1 or > 8) return stored;
        int w = stored.Width, h = stored.Height;
        bool swap = orientation >= 5;
        int outW = swap ? h : w, outH = swap ? w : h;
        var pixels = new byte[stored.Pixels.Length];
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++)
            {
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),           // mirrored
                    3 => (w - 1 - x, h - 1 - y),   // upside down
                    4 => (x, h - 1 - y),           // mirrored upside down
                    5 => (y, x),                   // transposed
                    6 => (y, h - 1 - x),           // stored a quarter turn anticlockwise: turn it clockwise
                    7 => (w - 1 - y, h - 1 - x),   // transversed
                    _ => (w - 1 - y, x),           // 8: stored a quarter turn clockwise
                };
                int to = (y * outW + x) * 3, from = (sy * w + sx) * 3;
                pixels[to] = stored.Pixels[from];
                pixels[to + 1] = stored.Pixels[from + 1];
                pixels[to + 2] = stored.Pixels[from + 2];
            }
        return new RgbImage(outW, outH, pixels);
    }
}
