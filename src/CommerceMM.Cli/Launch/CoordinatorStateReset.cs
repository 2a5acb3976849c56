using CommerceMM.Coordinator.Persistence;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Cli.Launch;

/// <summary>--reset-coordinator-state, for `cmm train` and a lone `cmm coordinator`, once they own the job on its store.</summary>
internal static class CoordinatorStateReset
{
    public static async Task RunAsync(IBlobStore store, string job, CancellationToken cancellationToken)
    {
        var moved = await CoordinatorState.SetAsideAsync(store, job, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
        Console.WriteLine(moved.Count == 0
            ? $"--reset-coordinator-state: job '{job}' had no coordinator state; it begins afresh"
            : $"--reset-coordinator-state: moved {string.Join(", ", moved.Select(m => m.From))} to {Path.GetDirectoryName(moved[0].To)}/; " +
              "the coordinator begins afresh, and the workers resume from the newest verified checkpoint");
    }
}
