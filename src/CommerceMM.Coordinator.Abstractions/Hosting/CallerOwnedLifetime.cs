using Microsoft.Extensions.Hosting;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>
/// A host lifetime that leaves SIGTERM and SIGINT to the process. The default console lifetime handles them itself:
/// a signal during start cancelled the coordinator's silo or the worker's client start before the command's own
/// handler had marked the stop, and the cancelled start escaped as an unhandled exception (exit 134).
/// </summary>
public sealed class CallerOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
