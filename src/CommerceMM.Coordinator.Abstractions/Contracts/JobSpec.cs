using System.Text.Json;

namespace CommerceMM.Coordinator.Contracts;

/// <summary>What the coordinator needs to know about a job; the full YAML spec travels opaquely in <see cref="Config"/>.</summary>
/// <param name="Name">Job name: one blob key segment (A-Z a-z 0-9 . _ - =); also the route key and the checkpoint folder.</param>
/// <param name="Workers">Target world size: the first rendezvous waits for this many workers (or the rendezvous timeout).</param>
/// <param name="MinWorkers">Smallest world size worth training with; a rendezvous never completes below it.</param>
/// <param name="MaxSteps">Training length, for status display; null when open-ended.</param>
/// <param name="CheckpointEverySteps">Periodic checkpoints at multiples of this step; 0 turns them off (orders still work).</param>
/// <param name="MaxRestarts">Restarts (generation bumps for lost or failed workers) tolerated before the job is marked Failed.</param>
/// <param name="Config">The job spec the workers run (model, data, optimizer...), passed through untouched.</param>
/// <param name="KeepLast">Retention after each commit: the newest committed checkpoints kept.</param>
/// <param name="KeepEvery">Retention: also keep steps divisible by this (0: none).</param>
[Immutable]
public sealed record JobSpec(
    string Name,
    int Workers,
    int MinWorkers = 1,
    long? MaxSteps = null,
    long CheckpointEverySteps = 0,
    int MaxRestarts = 100,
    JsonElement? Config = null,
    int KeepLast = 3,
    long KeepEvery = 0);
