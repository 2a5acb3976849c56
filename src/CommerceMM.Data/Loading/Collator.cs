using CommerceMM.Data.Format;
using CommerceMM.Torch;

namespace CommerceMM.Data.Loading;

/// <summary>Packs decoded samples into the tensors the model's two passes expect.</summary>
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
            Torch.Torch.FromArray(rows.Select(r => (long)r.Kind).ToArray(), b),
            Torch.Torch.FromArray(rows.Select(r => r.Source.Tokens is not null).ToArray(), b),
            Torch.Torch.FromArray(rows.Select(r => r.Source.Pixels is not null).ToArray(), b),
            Images(rows, r => r.Source.Pixels),
            sourceTokens, sourceMask,
            Images(rows, r => r.Target.Pixels),
            targetTokens, targetMask,
            Categories(rows),
        ]);
    }

    private static string[] Keys(IReadOnlyList<DecodedSample> rows) => rows.Select(r => r.Key).ToArray();

    private static Tensor Categories(IReadOnlyList<DecodedSample> rows) =>
        Torch.Torch.FromArray(rows.Select(r => (long)r.Category).ToArray(), rows.Count);

    private Tensor Images(IReadOnlyList<DecodedSample> rows, Func<DecodedSample, float[]?> pick)
    {
        var data = new float[rows.Count * Pixels];
        for (int i = 0; i < rows.Count; i++) pick(rows[i])?.CopyTo(data, i * Pixels);
        return Torch.Torch.FromArray(data, rows.Count, image.Channels, image.Height, image.Width);
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
        return (Torch.Torch.FromArray(ids, rows.Count, textLength), Torch.Torch.FromArray(mask, rows.Count, textLength));
    }
}
