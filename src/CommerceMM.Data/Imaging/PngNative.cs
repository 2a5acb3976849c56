using System.Runtime.InteropServices;

namespace CommerceMM.Data.Imaging;

// libpng's "simplified API" (png.h, 1.6): reads any PNG (palette, grey, 16-bit, alpha) into 8-bit RGB in two calls.
internal static unsafe partial class PngNative
{
    private const string Library = "libpng16.so.16";

    internal const uint ImageVersion = 1;     // PNG_IMAGE_VERSION
    internal const uint FormatRgb = 2;        // PNG_FORMAT_RGB (PNG_FORMAT_FLAG_COLOR)

    /// <summary>png_image: the control block of the simplified API.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Image
    {
        public IntPtr Opaque;
        public uint Version;
        public uint Width;
        public uint Height;
        public uint Format;
        public uint Flags;
        public uint ColormapEntries;
        public uint WarningOrError;
        public fixed byte Message[64];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Color
    {
        public byte Red, Green, Blue;
    }

    [LibraryImport(Library)] internal static partial int png_image_begin_read_from_memory(Image* image, byte* memory, nuint size);
    [LibraryImport(Library)] internal static partial int png_image_finish_read(Image* image, Color* background, byte* buffer, int rowStride, IntPtr colormap);
    [LibraryImport(Library)] internal static partial void png_image_free(Image* image);
}
