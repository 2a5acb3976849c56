using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.Evaluation;
using static TorchSharp.torch;

namespace CommerceMM.Cli.Bench;

/// <summary>
/// Analytic FLOPs of one CommerceMM training step (multiply-add = 2 FLOPs; matmuls only).
///
/// A transformer layer over n sequences of length S, width d, FFN width f:
///   forward  = n·S·(8d² + 4d·f) + n·4·S²·d     (QKV 6d², output 2d², FFN 4d·f per token; QKᵀ and AV)
///   training = 3 × forward                      (backward ≈ 2 × forward: input and weight gradients)
/// With f = 4d this is the familiar ≈ 72·d² per token for forward + backward, plus attention.
/// Encoder runs per step (B pairs, L text tokens, N + 1 image tokens, allocation t/v/f layers):
///   pass 1: text B×L×t, image B×(N+1)×v, ITM fusion 3B×(L+N+1)×f, MLM text B×L×t + fusion B×(L+N+1)×f,
///           MIM image B×(N+1)×v + fusion B×(L+N+1)×f, teacher image B×(N+1)×v (forward only);
///   pass 2: source text/image/fusion on the rows that have them, target text/image/fusion on all B.
/// Heads: patch embedding (2·C·p²·d per patch), MLM decoder (2d² + 2d·V per selected token),
/// MIM predictor (2d² per masked patch), prototype scores (2d·K per masked patch; teacher: every
/// patch, forward only). Projections, contrastive logits, LayerNorm, softmax and GELU are left out
/// (together well under 1% at tiny size).
/// </summary>
internal static class ModelFlops
{
    public static double PerStep(CommerceMMConfig c, PairInputs pairs, OmniInputs omni, Allocation a)
    {
        double b = pairs.Rows, l = c.Text.MaxLength, i = c.Image.PatchCount + 1, fused = l + i, d = c.Dim;
        double nText = CountTrue(omni.SourceHasText), nImage = CountTrue(omni.SourceHasImage);
        double nBoth = CountBoth(omni);
        double text(double rows) => Train(Layer(c, rows, l) * a.Text);
        double image(double rows) => Train(Layer(c, rows, i) * a.Image + rows * c.Image.PatchCount * 2.0 * c.Image.PatchPixels * d);
        double fusion(double rows) => Train(Layer(c, rows, fused) * a.Fusion);

        // Expected MLM selections: the MLM probability times the real tokens ([CLS]/[SEP]/padding excluded).
        double realTokens = pairs.Padding.numel() - CountTrue(pairs.Padding) - 2 * b;
        double mlmTokens = c.MlmProbability * realTokens;
        double masked = b * Math.Clamp(Math.Round(c.Image.MaskRatio * c.Image.PatchCount, MidpointRounding.AwayFromZero), 1, c.Image.PatchCount);

        double pass1 = text(b) + image(b) + fusion(3 * b)
                     + text(b) + fusion(b) + Train(mlmTokens * (2 * d * d + 2 * d * c.Text.VocabSize))
                     + image(b) + fusion(b) + Train(masked * (2 * d * d + 2 * d * c.Mim.Prototypes))
                     + Layer(c, b, i) * a.Image + b * c.Image.PatchCount * 2 * d * c.Mim.Prototypes;
        double pass2 = text(nText) + image(nImage) + fusion(nBoth) + text(b) + image(b) + fusion(b);
        return pass1 + pass2;
    }

    /// <summary>
    /// The same step done as 14 single-task forward/backward passes: every pass-1 task re-encodes the
    /// clean pair (trained where the task's loss reaches it, forward only where not), every omni task
    /// re-encodes its own source and target modalities. The ratio to <see cref="PerStep"/> is the most
    /// the two-pass scheme can save; the rest of the gap is per-op and per-pass overhead.
    /// </summary>
    public static double PerTaskSteps(CommerceMMConfig c, PairInputs pairs, OmniInputs omni, Allocation a)
    {
        double b = pairs.Rows, l = c.Text.MaxLength, i = c.Image.PatchCount + 1, fused = l + i, d = c.Dim;
        double nText = CountTrue(omni.SourceHasText), nImage = CountTrue(omni.SourceHasImage), nBoth = CountBoth(omni);
        double textF(double rows) => Layer(c, rows, l) * a.Text;
        double imageF(double rows) => Layer(c, rows, i) * a.Image + rows * c.Image.PatchCount * 2.0 * c.Image.PatchPixels * d;
        double fusionF(double rows) => Layer(c, rows, fused) * a.Fusion;
        double realTokens = pairs.Padding.numel() - CountTrue(pairs.Padding) - 2 * b;
        double mlmHead = c.MlmProbability * realTokens * (2 * d * d + 2 * d * c.Text.VocabSize);
        double masked = b * Math.Clamp(Math.Round(c.Image.MaskRatio * c.Image.PatchCount, MidpointRounding.AwayFromZero), 1, c.Image.PatchCount);
        double teacher = Layer(c, b, i) * a.Image + b * c.Image.PatchCount * 2 * d * c.Mim.Prototypes;
        double mim(double head) => Train(textF(b)) + imageF(b) + Train(imageF(b) + fusionF(b) + masked * head) + teacher;

        double total = Train(textF(b) + imageF(b))                                            // itc
                     + Train(textF(b) + imageF(b) + fusionF(3 * b))                           // itm
                     + textF(b) + Train(imageF(b) + textF(b) + fusionF(b) + mlmHead)          // mlm: clean text unused
                     + mim(2 * d * d) + mim(2 * d * c.Mim.Prototypes);                        // mim_fr, mim_kl: clean image unused
        foreach (char s in TaskIds.Modalities)
            foreach (char t in TaskIds.Modalities)
            {
                double source = s switch { 't' => textF(nText), 'v' => imageF(nImage), _ => textF(nText) + imageF(nImage) + fusionF(nBoth) };
                double target = t switch { 't' => textF(b), 'v' => imageF(b), _ => textF(b) + imageF(b) + fusionF(b) };
                total += Train(source + target);
            }
        return total;
    }

    /// <summary>Forward FLOPs of one transformer layer over n sequences of length s.</summary>
    private static double Layer(CommerceMMConfig c, double n, double s) => EncoderFlops.Layer(c, n, s);

    private static double Train(double forward) => 3 * forward;

    private static double CountTrue(Tensor flags)
    {
        using var sum = flags.sum();
        return sum.item<long>();
    }

    private static double CountBoth(OmniInputs o)
    {
        using var both = o.SourceHasText.logical_and(o.SourceHasImage);
        return CountTrue(both);
    }
}
