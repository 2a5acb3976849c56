using System.Buffers.Binary;

namespace CommerceMM.Data.Imaging;

/// <summary>The application segments of a JPEG's header, which libjpeg reads past: EXIF, Adobe's colour transform.</summary>
internal static class JpegSegments
{
    /// <summary>The payload after <paramref name="signature"/> of the first <paramref name="marker"/> segment that starts with it, before the image data.</summary>
    public static bool TryFind(ReadOnlySpan<byte> jpeg, byte marker, ReadOnlySpan<byte> signature, out ReadOnlySpan<byte> payload)
    {
        int at = 2;   // after SOI
        while (at + 4 <= jpeg.Length && jpeg[at] == 0xFF)
        {
            byte found = jpeg[at + 1];
            if (found is 0xDA or 0xD9) break;   // image data starts: application segments come before it
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 2)..]);
            if (length < 2 || at + 2 + length > jpeg.Length) break;
            var segment = jpeg.Slice(at + 4, length - 2);
            if (found == marker && segment.StartsWith(signature))
            {
                payload = segment[signature.Length..];
                return true;
            }
            at += 2 + length;
        }
        payload = default;
        return false;
    }
}
