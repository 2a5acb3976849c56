using CommerceMM.Data.Format;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Data.Loading;

/// <summary>Packs decoded samples into the tensors the model's two passes expect, on the host (the worker moves them to job.device).</summary>
internal sealed class Collator(ImageSpec image, int textLength, int padId)
{
    private int Pixels => image.Channels * image.Width * image.Height;

    public PairBatch Pairs(IReadOnlyList<DecodedSample> rows, long epoch, long step, LoaderPosition position)
    {
        var (tokens, mask) = Texts(rows, r => r.Target.Tokens);
        return new PairBatch(Keys(rows), epoch, step, position,
            Images(rows, r => r.Target.Pixels), tokens, mask, Categories(rows));
    }

    public OmniBatch Omni(IReadOnlyList<DecodedSample> rows, long epoch, long step, LoaderPosition position)
    {
        int b = rows.Count;
        var (sourceTokens, sourceMask) = Texts(rows, r => r.Source.Tokens);
        var (targetTokens, targetMask) = Texts(rows, r => r.Target.Tokens);
        return new OmniBatch(Keys(rows), epoch, step, position,
        [
            torch.tensor(rows.Select(r => (long)r.Kind).ToArray(), [b], device: CPU),
            torch.tensor(rows.Select(r => r.Source.Tokens is not null).ToArray(), [b], device: CPU),
            torch.tensor(rows.Select(r => r.Source.Pixels is not null).ToArray(), [b], device: CPU),
            Images(rows, r => r.Source.Pixels),
            sourceTokens, sourceMask,
            Images(rows, r => r.Target.Pixels),
            targetTokens, targetMask,
            Categories(rows),
        ]);
    }

    private static string[] Keys(IReadOnlyList<DecodedSample> rows) => rows.Select(r => r.Key).ToArray();

    private static Tensor Categories(IReadOnlyList<DecodedSample> rows) =>
        torch.tensor(rows.Select(r => (long)r.Category).ToArray(), [rows.Count], device: CPU);

    private Tensor Images(IReadOnlyList<DecodedSample> rows, Func<DecodedSample, float[]?> pick)
    {
        var data = new float[rows.Count * Pixels];
        for (int i = 0; i < rows.Count; i++) pick(rows[i])?.CopyTo(data, i * Pixels);
        return torch.tensor(data, [rows.Count, image.Channels, image.Height, image.Width], device: CPU);
    }

    private (Tensor Ids, Tensor Mask) Texts(IReadOnlyList<DecodedSample> rows, Func<DecodedSample, int[]?> pick)
    {
        var ids = new long[rows.Count * textLength];
        var mask = new bool[rows.Count * textLength];
        Array.Fill(ids, padId);
        Array.Fill(mask, true);
        for (int i = 0; i < rows.Count; i++)
        {
            int[]? tokens = pick(rows[i]);
            if (tokens is null) continue;
            for (int j = 0; j < tokens.Length; j++)
            {
                ids[i * textLength + j] = tokens[j];
                mask[i * textLength + j] = false;
            }
        }
        return (torch.tensor(ids, [rows.Count, textLength], device: CPU), torch.tensor(mask, [rows.Count, textLength], device: CPU));
    }
}
