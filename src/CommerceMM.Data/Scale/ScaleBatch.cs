using CommerceMM.Torch;

namespace CommerceMM.Data.Scale;

/// <summary>
/// B five-modality products as tensors, in the model's conventions: <see cref="Present"/> (B, 5) in the
/// order image, text, table, video, audio; a missing modality's slots are zeros or all padding. Owns its tensors.
/// </summary>
public sealed class ScaleBatch : IDisposable
{
    public required IReadOnlyList<string> Keys { get; init; }
    public required Tensor Present { get; init; }
    /// <summary>(B, 1, H, W) float32, normalised with the data set's mean and std.</summary>
    public required Tensor Images { get; init; }
    public required Tensor TextIds { get; init; }
    public required Tensor TextPadding { get; init; }
    public required Tensor TableIds { get; init; }
    public required Tensor TablePadding { get; init; }
    /// <summary>(B, Lb) int64: entity of each table token (a key is 2j, its value 2j + 1); -1 for [CLS], [SEP], separators and padding.</summary>
    public required Tensor TableEntities { get; init; }
    /// <summary>(B, F, 1, H, W) float32, normalised like the images.</summary>
    public required Tensor Video { get; init; }
    /// <summary>(B, T, mels) float32 log-mel frames, T the data set's audio_max_frames.</summary>
    public required Tensor Audio { get; init; }
    public required Tensor AudioPadding { get; init; }
    /// <summary>(B) int64 category labels.</summary>
    public required Tensor Categories { get; init; }

    public int Count => Keys.Count;

    public void Dispose()
    {
        foreach (var t in new[] { Present, Images, TextIds, TextPadding, TableIds, TablePadding, TableEntities, Video, Audio, AudioPadding, Categories }) t.Dispose();
    }
}
