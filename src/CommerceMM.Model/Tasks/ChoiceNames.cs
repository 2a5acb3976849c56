namespace CommerceMM.Model.Tasks;

/// <summary>Names of the random choices a pass records (<see cref="PassOutput.Choices"/>), as written in step dumps.</summary>
public static class ChoiceNames
{
    /// <summary>(B) int64: for each image, the row of its hard negative text.</summary>
    public const string ItmNegativeText = "itm_negative_text";

    /// <summary>(B) int64: for each text, the row of its hard negative image.</summary>
    public const string ItmNegativeImage = "itm_negative_image";
}
