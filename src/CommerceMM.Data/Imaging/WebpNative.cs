using System.Runtime.InteropServices;

namespace CommerceMM.Data.Imaging;

// libwebp's simple decoding API (decode.h): still images only; an animated WebP fails to decode.
internal static unsafe partial class WebpNative
{
    private const string Library = "libwebp.so.7";

    [LibraryImport(Library)] internal static partial int WebPGetInfo(byte* data, nuint size, int* width, int* height);
    [LibraryImport(Library)] internal static partial byte* WebPDecodeRGB(byte* data, nuint size, int* width, int* height);
    [LibraryImport(Library)] internal static partial void WebPFree(void* pointer);
}
