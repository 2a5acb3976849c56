using System.Runtime.InteropServices;

namespace CommerceMM.Data.Imaging;

// libturbojpeg's C API (turbojpeg.h, 2.1), called directly: no shim needed. Resolves libturbojpeg.so.
internal static partial class TurboJpegNative
{
    private const string Library = "turbojpeg";

    // Values of the TJPF / TJCS / TJSAMP / TJFLAG enums in turbojpeg.h.
    internal const int PixelFormatRgb = 0;
    internal const int PixelFormatGray = 6;
    internal const int PixelFormatCmyk = 11;
    internal const int ColorspaceCmyk = 3;
    internal const int ColorspaceYcck = 4;
    internal const int Subsampling444 = 0;
    internal const int SubsamplingGray = 3;
    internal const int FlagAccurateDct = 4096;
    internal const int FlagStopOnWarning = 8192;

    [LibraryImport(Library)] internal static partial IntPtr tjInitCompress();
    [LibraryImport(Library)] internal static partial IntPtr tjInitDecompress();
    [LibraryImport(Library)] internal static partial int tjDestroy(IntPtr handle);
    [LibraryImport(Library)] internal static partial void tjFree(IntPtr buffer);
    [LibraryImport(Library)] internal static partial IntPtr tjGetErrorStr2(IntPtr handle);

    [LibraryImport(Library)]
    internal static unsafe partial int tjCompress2(IntPtr handle, byte* source, int width, int pitch, int height, int pixelFormat,
        IntPtr* jpegBuffer, nuint* jpegSize, int subsampling, int quality, int flags);

    [LibraryImport(Library)]
    internal static unsafe partial int tjDecompressHeader3(IntPtr handle, byte* jpeg, nuint jpegSize,
        int* width, int* height, int* subsampling, int* colorspace);

    [LibraryImport(Library)]
    internal static unsafe partial int tjDecompress2(IntPtr handle, byte* jpeg, nuint jpegSize, byte* destination,
        int width, int pitch, int height, int pixelFormat, int flags);
}
