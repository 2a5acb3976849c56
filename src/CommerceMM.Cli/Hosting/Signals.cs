using System.Runtime.InteropServices;

namespace CommerceMM.Cli.Hosting;

/// <summary>
/// SIGTERM/SIGINT handling: the first signal asks for a graceful stop (finish the step, checkpoint
/// inside the grace period, exit 0), the second stops waiting.
/// </summary>
internal sealed class Signals : IDisposable
{
    private readonly CancellationTokenSource _graceful = new(), _immediate = new();
    private readonly PosixSignalRegistration[] _registrations;

    public Signals()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle), PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle)];
    }

    public CancellationToken Graceful => _graceful.Token;
    public CancellationToken Immediate => _immediate.Token;

    /// <remarks>
    /// Runs on a thread of its own, so it can meet <see cref="Dispose"/>: a signal that lands while the command returns
    /// (a worker exiting 75 as its pod is stopped) finds the command done, and the process exits with the command's code.
    /// </remarks>
    internal void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // we exit on our own terms, after the checkpoint
        try
        {
            if (_graceful.IsCancellationRequested) _immediate.Cancel();
            else _graceful.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed while this handler was on its way: the command has returned, and its exit code stands.
        }
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _graceful.Dispose();
        _immediate.Dispose();
    }
}
