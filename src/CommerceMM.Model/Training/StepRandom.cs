using CommerceMM.Model.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>
/// Randomness as a pure function of (seed, step[, rank]): a resumed or re-run step draws exactly what
/// the original did, and the allocation is the same on every rank without communication.
/// </summary>
public static class StepRandom
{
    /// <summary>The generator for this rank's masks and negatives at a step (a CPU generator: draws happen on the CPU, then move).</summary>
    public static Generator For(ulong seed, long step, int rank) => new(Mix(Mix(seed ^ 0x9E3779B97F4A7C15UL) ^ (ulong)step) ^ (ulong)rank * 0xD1B54A32D192ED03UL);

    /// <summary>The step's layer allocation, drawn with the configured probabilities; identical on all ranks.</summary>
    public static Allocation Allocation(IReadOnlyList<Allocation> allocations, ulong seed, long step)
    {
        if (allocations.Count == 1) return allocations[0];
        double u = (Mix(Mix(seed + 0xA0761D6478BD642FUL) ^ (ulong)step) >> 11) * (1.0 / (1UL << 53));
        double total = allocations.Sum(a => a.Probability), cumulative = 0;
        foreach (var a in allocations)
        {
            cumulative += a.Probability / total;
            if (u < cumulative) return a;
        }
        return allocations[^1];
    }

    /// <summary>SplitMix64's finaliser: decorrelates nearby inputs (step, step + 1).</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
