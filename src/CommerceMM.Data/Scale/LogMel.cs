using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Data.Scale;

/// <summary>
/// Log-mel spectrogram through libtorch without a native STFT: Hann-windowed frames (T, n) times a real
/// DFT basis (n, n/2 + 1) in cos and sin gives the spectrum as two matmuls; power times an HTK mel
/// filter bank (n/2 + 1, mels), then log(· + 1e-6). Immutable after construction; one instance serves
/// every thread of a build.
/// </summary>
public sealed class LogMel : IDisposable
{
    private static readonly Scalar Floor = 1e-6.ToScalar();
    private readonly LogMelOptions _options;
    private readonly Tensor _cos, _sin, _mel;
    private readonly float[] _window;

    public LogMel(LogMelOptions options, int sampleRate)
    {
        options.Validate();
        _options = options;
        SampleRate = sampleRate;
        int n = options.FftSize, bins = n / 2 + 1;
        var cos = new float[n * bins];
        var sin = new float[n * bins];
        for (int t = 0; t < n; t++)
            for (int k = 0; k < bins; k++)
            {
                double angle = 2 * Math.PI * ((long)t * k % n) / n;   // reduced mod n so large t·k stays exact
                cos[t * bins + k] = (float)Math.Cos(angle);
                sin[t * bins + k] = (float)-Math.Sin(angle);
            }
        _cos = torch.tensor(cos, [n, bins], device: CPU).DetachFromDisposeScope();
        _sin = torch.tensor(sin, [n, bins], device: CPU).DetachFromDisposeScope();
        _mel = torch.tensor(MelBank(bins, options.Mels, sampleRate, n), [bins, options.Mels], device: CPU).DetachFromDisposeScope();
        // Periodic Hann window, as torch.hann_window's default.
        _window = Enumerable.Range(0, n).Select(i => (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * i / n))).ToArray();
    }

    public int SampleRate { get; }

    /// <summary>(frames, mels) row-major, frames ≤ MaxFrames; Truncated says speech was cut.</summary>
    public (float[] Values, int Frames, bool Truncated) Compute(ReadOnlySpan<float> samples)
    {
        int n = _options.FftSize, hop = _options.Hop;
        int available = samples.Length <= n ? 1 : 1 + (samples.Length - n) / hop;
        int frames = Math.Min(available, _options.MaxFrames);
        var framed = new float[frames * n];
        for (int f = 0; f < frames; f++)
            for (int i = 0; i < n; i++)
            {
                int s = f * hop + i;
                framed[f * n + i] = s < samples.Length ? samples[s] * _window[i] : 0;
            }
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(framed, [frames, n], device: CPU);
        var re = x.matmul(_cos);
        var im = x.matmul(_sin);
        var power = (re * re).Add(im * im);                  // (T, n/2 + 1)
        var logMel = power.matmul(_mel).Add(Floor).log();    // (T, mels)
        return (logMel.data<float>().ToArray(), frames, available > frames);
    }

    /// <summary>Triangular filters evenly spaced on the HTK mel scale from 0 Hz to Nyquist, (bins, mels).</summary>
    internal static float[] MelBank(int bins, int mels, int sampleRate, int fftSize)
    {
        static double ToMel(double hz) => 2595 * Math.Log10(1 + hz / 700);
        static double ToHz(double mel) => 700 * (Math.Pow(10, mel / 2595) - 1);
        double top = ToMel(sampleRate / 2.0);
        var edges = Enumerable.Range(0, mels + 2).Select(i => ToHz(top * i / (mels + 1))).ToArray();
        var bank = new float[bins * mels];
        for (int k = 0; k < bins; k++)
        {
            double hz = (double)k * sampleRate / fftSize;
            for (int m = 0; m < mels; m++)
            {
                double rise = (hz - edges[m]) / (edges[m + 1] - edges[m]);
                double fall = (edges[m + 2] - hz) / (edges[m + 2] - edges[m + 1]);
                bank[k * mels + m] = (float)Math.Max(0, Math.Min(rise, fall));
            }
        }
        return bank;
    }

    public void Dispose()
    {
        _cos.Dispose();
        _sin.Dispose();
        _mel.Dispose();
    }
}
