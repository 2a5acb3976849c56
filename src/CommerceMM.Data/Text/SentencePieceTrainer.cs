using System.Diagnostics;
using System.Globalization;

namespace CommerceMM.Data.Text;

/// <summary>
/// Trains a SentencePiece unigram model by running Debian's <c>spm_train</c> (package
/// <c>sentencepiece</c>). The special ids are fixed so every model we train agrees:
/// pad 0, unk 1, [CLS] (bos) 2, [SEP] (eos) 3, &lt;mask&gt; 4.
/// </summary>
public static class SentencePieceTrainer
{
    public const string ExecutableName = "spm_train";

    /// <summary>
    /// Above this much text spm_train learns from a sample of the corpus's lines: it holds about 23 times its input in
    /// memory (a 225 MB catalog corpus took 5.2 GB and 139 s), and a 38 MB sample of that corpus gave a tokenizer within
    /// 0.03 % of the whole corpus's token count on held-out text (1.8 GB and 49 s at 76 MB).
    /// </summary>
    public const long DefaultMaxCorpusBytes = 64L << 20;

    /// <summary>Trains on corpusFile (one sentence per line) and writes modelPrefix.model / .vocab.</summary>
    /// <param name="vocabSize">Target size. Treated as a soft limit: a small corpus gets a smaller vocabulary rather than a failure.</param>
    /// <param name="seed">Seeds sentencepiece's sampling so retraining the same corpus gives the same model.</param>
    /// <param name="maxCorpusBytes">a larger corpus is sampled, by lines, down to about this much text</param>
    /// <exception cref="TokenizerException">spm_train is missing or failed (its output is included).</exception>
    public static async Task<string> TrainAsync(string corpusFile, string modelPrefix, int vocabSize, uint seed, long maxCorpusBytes = DefaultMaxCorpusBytes,
                                                CancellationToken cancellationToken = default)
    {
        if (!File.Exists(corpusFile)) throw new TokenizerException($"tokenizer corpus '{corpusFile}' does not exist");
        if (new FileInfo(corpusFile).Length == 0) throw new TokenizerException($"tokenizer corpus '{corpusFile}' is empty");
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 16);
        string exe = FindExecutable() ?? throw new TokenizerException(
            $"'{ExecutableName}' was not found on PATH; install the Debian package 'sentencepiece' (tools/bootstrap does)");

        // spm_train writes its --input and --model_prefix into the model: run in the model's folder with names relative to
        // it, so that the same corpus gives the same bytes whichever folder a data set is built in.
        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPrefix))!;
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        string[] args =
        [
            $"--input={Path.GetRelativePath(folder, Path.GetFullPath(corpusFile))}",
            $"--model_prefix={Path.GetFileName(modelPrefix)}",
            $"--vocab_size={vocabSize.ToString(CultureInfo.InvariantCulture)}",
            "--model_type=unigram",
            "--hard_vocab_limit=false",
            "--character_coverage=1.0",
            "--pad_id=0", "--unk_id=1", "--bos_id=2", "--eos_id=3",
            $"--control_symbols={SentencePieceTokenizer.MaskPiece}",
            $"--random_seed={seed.ToString(CultureInfo.InvariantCulture)}",
            // One thread: the unigram EM's result then does not depend on the machine's core count.
            "--num_threads=1",
            "--minloglevel=1",
        ];
        foreach (string a in args.Concat(SampleArguments(corpusFile, maxCorpusBytes))) start.ArgumentList.Add(a);

        using var process = Process.Start(start) ?? throw new TokenizerException($"could not start {exe}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        string output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
        string model = modelPrefix + ".model";
        if (process.ExitCode != 0 || !File.Exists(model))
            throw new TokenizerException($"{ExecutableName} failed (exit {process.ExitCode}): {Tail(output)}");
        return model;
    }

    /// <summary>
    /// None for a corpus within the limit (spm_train then reads every line, in order); otherwise the share of its lines
    /// that holds about that much text, drawn by spm_train's reservoir sampler, whose fixed seed keeps the model reproducible.
    /// </summary>
    private static string[] SampleArguments(string corpusFile, long maxCorpusBytes)
    {
        long bytes = new FileInfo(corpusFile).Length;
        if (bytes <= maxCorpusBytes) return [];
        long lines = File.ReadLines(corpusFile).LongCount();
        long sample = Math.Max(MinSampleLines, (long)(lines * ((double)maxCorpusBytes / bytes)));
        return [$"--input_sentence_size={sample.ToString(CultureInfo.InvariantCulture)}", "--shuffle_input_sentence=true"];
    }

    /// <summary>spm_train refuses a sample of 100 lines or fewer.</summary>
    private const long MinSampleLines = 101;

    /// <summary>Fails early, before a build writes anything, when spm_train is not installed.</summary>
    /// <exception cref="TokenizerException">spm_train is not on PATH.</exception>
    public static void EnsureAvailable()
    {
        if (FindExecutable() is null)
            throw new TokenizerException($"'{ExecutableName}' was not found on PATH; install the Debian package 'sentencepiece' (tools/bootstrap does)");
    }

    private static string? FindExecutable()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, ExecutableName);
            if (File.Exists(candidate)) return candidate;
        }
        return File.Exists("/usr/bin/" + ExecutableName) ? "/usr/bin/" + ExecutableName : null;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text.Trim() : "..." + text[^2000..].Trim();
}
