using System.Text;

namespace CommerceMM.Worker.Training;

/// <summary>
/// A sample's masking seed from (job seed, epoch, sample key): masks follow the sample, not the rank or
/// row it lands on, so any world size masks alike, and each epoch re-masks (dynamic masking, as RoBERTa).
/// </summary>
public static class SampleSeeds
{
    public static ulong[] For(ulong jobSeed, long epoch, IReadOnlyList<string> keys)
    {
        var seeds = new ulong[keys.Count];
        for (int i = 0; i < seeds.Length; i++) seeds[i] = Mix(Fnv1a(keys[i]) ^ Mix(jobSeed + (ulong)epoch * 0x9E3779B97F4A7C15UL));
        return seeds;
    }

    private static ulong Fnv1a(string key)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(key)) hash = (hash ^ b) * 0x100000001B3UL;
        return hash;
    }

    /// <summary>SplitMix64's finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
