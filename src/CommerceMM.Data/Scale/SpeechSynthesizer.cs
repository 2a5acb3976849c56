using System.Buffers.Binary;
using System.Diagnostics;

namespace CommerceMM.Data.Scale;

/// <summary>Speaks a text with espeak-ng (Debian package <c>espeak-ng</c>) and returns mono samples in [-1, 1].</summary>
public static class SpeechSynthesizer
{
    public const string ExecutableName = "espeak-ng";

    /// <exception cref="InvalidOperationException">espeak-ng is missing or failed (the message says how to install it).</exception>
    public static (float[] Samples, int SampleRate) Speak(string text, string voice)
    {
        string wav = Path.Combine(Path.GetTempPath(), $"cmm-speech-{Guid.NewGuid():N}.wav");
        try
        {
            var start = new ProcessStartInfo(ExecutableName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string arg in new[] { "-v", voice, "-w", wav, "--", text }) start.ArgumentList.Add(arg);
            Process process;
            try { process = Process.Start(start)!; }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"{ExecutableName} is not installed; install the Debian package '{ExecutableName}' (apt-get install {ExecutableName}, or run tools/bootstrap)", e);
            }
            using (process)
            {
                string error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0 || !File.Exists(wav))
                    throw new InvalidOperationException($"{ExecutableName} failed (exit {process.ExitCode}): {error.Trim()}");
            }
            return ReadWav(File.ReadAllBytes(wav));
        }
        finally
        {
            File.Delete(wav);
        }
    }

    /// <summary>16-bit PCM mono WAV → samples. Chunk sizes larger than the file (streamed WAVs) are clamped.</summary>
    /// <exception cref="InvalidDataException">Not a 16-bit PCM mono WAV.</exception>
    public static (float[] Samples, int SampleRate) ReadWav(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes[8..12].SequenceEqual("WAVE"u8))
            throw new InvalidDataException("not a RIFF/WAVE file");
        int rate = 0, offset = 12;
        while (offset + 8 <= bytes.Length)
        {
            var id = bytes.Slice(offset, 4);
            int size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bytes[(offset + 4)..]), (uint)(bytes.Length - offset - 8));
            var body = bytes.Slice(offset + 8, size);
            if (id.SequenceEqual("fmt "u8))
            {
                if (BinaryPrimitives.ReadUInt16LittleEndian(body) != 1 || BinaryPrimitives.ReadUInt16LittleEndian(body[2..]) != 1 || BinaryPrimitives.ReadUInt16LittleEndian(body[14..]) != 16)
                    throw new InvalidDataException("only 16-bit PCM mono WAV is supported");
                rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (rate == 0) throw new InvalidDataException("WAV data chunk before its fmt chunk");
                var samples = new float[size / 2];
                for (int i = 0; i < samples.Length; i++) samples[i] = BinaryPrimitives.ReadInt16LittleEndian(body[(2 * i)..]) / 32768f;
                return (samples, rate);
            }
            offset += 8 + size + (size & 1);
        }
        throw new InvalidDataException("WAV has no data chunk");
    }
}
