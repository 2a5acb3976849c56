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

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // we exit on our own terms, after the checkpoint
        if (_graceful.IsCancellationRequested) _immediate.Cancel();
        else _graceful.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _graceful.Dispose();
        _immediate.Dispose();
    }
}
