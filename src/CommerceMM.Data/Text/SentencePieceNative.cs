using System.Runtime.InteropServices;

namespace CommerceMM.Data.Text;

// Mirrors native/cmm_spm.h (ownership rules are stated there).
internal static partial class SentencePieceNative
{
    private const string Library = "cmmspm";

    [LibraryImport(Library)] internal static partial IntPtr cmm_spm_last_error();
    [LibraryImport(Library)] internal static partial void cmm_spm_free_string(IntPtr text);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial IntPtr cmm_spm_load(string path);
    [LibraryImport(Library)] internal static partial void cmm_spm_free(IntPtr processor);
    [LibraryImport(Library)] internal static unsafe partial int cmm_spm_encode(SentencePieceHandle processor, byte* text, int length, int* ids, int capacity);
    [LibraryImport(Library)] internal static unsafe partial IntPtr cmm_spm_decode(SentencePieceHandle processor, int* ids, int count);
    [LibraryImport(Library)] internal static partial int cmm_spm_vocab_size(SentencePieceHandle processor);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int cmm_spm_piece_to_id(SentencePieceHandle processor, string piece);
    [LibraryImport(Library)] internal static partial int cmm_spm_special_id(SentencePieceHandle processor, int which);

    /// <summary>Reads and clears this thread's native error text, freeing the native copy.</summary>
    internal static TokenizerException TakeError(string context)
    {
        IntPtr text = cmm_spm_last_error();
        if (text == IntPtr.Zero) return new TokenizerException($"{context}: sentencepiece failed without a message");
        string message = Marshal.PtrToStringUTF8(text) ?? "";
        cmm_spm_free_string(text);
        return new TokenizerException($"{context}: {message}");
    }
}

/// <summary>Owns a native sentencepiece processor.</summary>
internal sealed class SentencePieceHandle : SafeHandle
{
    public SentencePieceHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    internal SentencePieceHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        SentencePieceNative.cmm_spm_free(handle);
        return true;
    }
}

/// <summary>The tokenizer could not be trained, loaded or used.</summary>
public sealed class TokenizerException(string message) : Exception(message);
