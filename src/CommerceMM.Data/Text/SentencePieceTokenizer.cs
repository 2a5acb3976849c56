using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace CommerceMM.Data.Text;

/// <summary>
/// A SentencePiece model loaded through libsentencepiece. Encoding is thread-safe (the processor is
/// read-only once loaded), so one instance serves every decode worker.
/// </summary>
public sealed class SentencePieceTokenizer : IDisposable
{
    /// <summary>The control piece used for masked-language-model masking (trained in by <see cref="SentencePieceTrainer"/>).</summary>
    public const string MaskPiece = "<mask>";

    private readonly SentencePieceHandle _handle;

    private SentencePieceTokenizer(SentencePieceHandle handle, string path)
    {
        _handle = handle;
        ModelPath = path;
        VocabSize = Check(SentencePieceNative.cmm_spm_vocab_size(_handle), "vocabulary size");
        UnkId = SentencePieceNative.cmm_spm_special_id(_handle, 0);
        ClsId = SentencePieceNative.cmm_spm_special_id(_handle, 1);
        SepId = SentencePieceNative.cmm_spm_special_id(_handle, 2);
        PadId = SentencePieceNative.cmm_spm_special_id(_handle, 3);
        int mask = SentencePieceNative.cmm_spm_piece_to_id(_handle, MaskPiece);
        MaskId = mask == UnkId ? -1 : mask;
    }

    /// <exception cref="TokenizerException">The file is missing or is not a sentencepiece model.</exception>
    public static SentencePieceTokenizer Load(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        if (!File.Exists(modelPath)) throw new TokenizerException($"tokenizer model '{modelPath}' does not exist");
        IntPtr raw = SentencePieceNative.cmm_spm_load(Path.GetFullPath(modelPath));
        if (raw == IntPtr.Zero) throw SentencePieceNative.TakeError($"loading tokenizer '{modelPath}'");
        return new SentencePieceTokenizer(new SentencePieceHandle(raw), modelPath);
    }

    public string ModelPath { get; }
    public int VocabSize { get; }
    public int UnkId { get; }

    /// <summary>Sentencepiece's BOS piece, used as the text encoder's leading [CLS].</summary>
    public int ClsId { get; }

    /// <summary>Sentencepiece's EOS piece, closing each text.</summary>
    public int SepId { get; }
    public int PadId { get; }

    /// <summary>The &lt;mask&gt; control piece, or -1 when the model has none.</summary>
    public int MaskId { get; }

    public unsafe int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length) + 1);
        try
        {
            int length = Encoding.UTF8.GetBytes(text, utf8);
            // Most catalog texts need fewer ids than bytes; retry once with the exact count otherwise.
            int[] ids = new int[Math.Max(16, length)];
            int count;
            fixed (byte* t = utf8)
            fixed (int* p = ids)
                count = SentencePieceNative.cmm_spm_encode(_handle, t, length, p, ids.Length);
            if (count < 0) throw SentencePieceNative.TakeError("encoding text");
            if (count > ids.Length)
            {
                ids = new int[count];
                fixed (byte* t = utf8)
                fixed (int* p = ids)
                    count = SentencePieceNative.cmm_spm_encode(_handle, t, length, p, ids.Length);
                if (count < 0) throw SentencePieceNative.TakeError("encoding text");
            }
            return ids.AsSpan(0, count).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <exception cref="TokenizerException">An id is outside the vocabulary.</exception>
    public unsafe string Decode(ReadOnlySpan<int> ids)
    {
        IntPtr text;
        fixed (int* p = ids) text = SentencePieceNative.cmm_spm_decode(_handle, p, ids.Length);
        if (text == IntPtr.Zero) throw SentencePieceNative.TakeError("decoding ids");
        try { return Marshal.PtrToStringUTF8(text) ?? ""; }
        finally { SentencePieceNative.cmm_spm_free_string(text); }
    }

    public void Dispose() => _handle.Dispose();

    private static int Check(int value, string what) =>
        value < 0 ? throw SentencePieceNative.TakeError(what) : value;
}
