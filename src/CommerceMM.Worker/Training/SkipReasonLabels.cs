using System.Text.Json;
using CommerceMM.Data.Loading;

namespace CommerceMM.Worker.Training;

/// <summary>The <c>reason</c> label of cmm_samples_skipped_total for a loader skip reason.</summary>
public static class SkipReasonLabels
{
    /// <summary>Snake case: <c>LengthOutOfRange</c> → <c>length_out_of_range</c> (one of Observability's <c>SkipReasons.All</c>).</summary>
    public static string For(SkipReason reason) => JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());
}
