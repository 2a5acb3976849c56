using CommerceMM.Data.Format;

namespace CommerceMM.Data.Scale;

/// <summary>The video and audio shapes a SCALE data set records in its manifest's counts.</summary>
public static class ScaleShapes
{
    public static int VideoFrames(DatasetManifest m) => Count(m, "video_frames");
    public static int Mels(DatasetManifest m) => Count(m, "audio_mels");
    public static int MaxAudioFrames(DatasetManifest m) => Count(m, "audio_max_frames");

    /// <summary>Products of a split ("train" or "test") that have a modality; 0 when none does.</summary>
    public static long Having(DatasetManifest m, string split, string modality) =>
        m.Counts.TryGetValue($"{split}_{modality}", out long n) ? n : 0;

    private static int Count(DatasetManifest m, string key) =>
        m.Counts.TryGetValue(key, out long v) && v > 0 ? (int)v
            : throw new DatasetException($"data set '{m.Name}' records no '{key}': it is not a SCALE data set (build one with `cmm data build fashion --modalities image,text,table,video,audio`)");
}
