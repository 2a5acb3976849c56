using CommerceMM.Model.Config;

namespace CommerceMM.Model.Evaluation;

/// <summary>
/// Analytic forward FLOPs of the encoders (multiply-add = 2 FLOPs; matmuls only). One transformer
/// layer over n sequences of length S, width d, FFN width f costs n·S·(8d² + 4d·f) + n·4·S²·d:
/// QKV 6d², attention output 2d², FFN 4d·f per token, plus QKᵀ and AV. LayerNorm, softmax, GELU
/// and the embedding projections are left out (well under 1% at tiny size). Texts are counted at
/// their padded length, because that is the length the encoder runs on.
/// </summary>
public static class EncoderFlops
{
    /// <summary>Forward FLOPs of one transformer layer over <paramref name="sequences"/> sequences of <paramref name="length"/> tokens.</summary>
    public static double Layer(CommerceMMConfig c, double sequences, double length) =>
        sequences * length * (8.0 * c.Dim * c.Dim + 4.0 * c.Dim * c.FfnDim) + sequences * 4.0 * length * length * c.Dim;

    /// <summary>The ViT patch projection: 2·C·p²·d per patch.</summary>
    public static double PatchEmbedding(CommerceMMConfig c, double images) =>
        images * c.Image.PatchCount * 2.0 * c.Image.PatchPixels * c.Dim;

    /// <summary>e_t of one text: <c>a.Text</c> layers over the padded text.</summary>
    public static double TextItem(CommerceMMConfig c, Allocation a) => Layer(c, 1, c.Text.MaxLength) * a.Text;

    /// <summary>e_v of one image: patch projection plus <c>a.Image</c> layers over the patches and [CLS].</summary>
    public static double ImageItem(CommerceMMConfig c, Allocation a) =>
        PatchEmbedding(c, 1) + Layer(c, 1, c.Image.PatchCount + 1) * a.Image;

    /// <summary>(e_t, e_v, e_m) of one product: both encoders plus <c>a.Fusion</c> layers over the joined sequence.</summary>
    public static double ProductItem(CommerceMMConfig c, Allocation a) =>
        TextItem(c, a) + ImageItem(c, a) + Layer(c, 1, c.Text.MaxLength + c.Image.PatchCount + 1) * a.Fusion;
}
