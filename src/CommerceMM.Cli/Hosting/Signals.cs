using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CommerceMM.Cli.Hosting;

/// <summary>
/// SIGTERM/SIGINT handling: the first signal asks for a graceful stop (finish the step, checkpoint
/// inside the grace period, exit 0), the second stops waiting.
/// </summary>
internal sealed class Signals : IDisposable
{
    /// <summary>
    /// A second signal this soon after the first is the same stop, not a second one. A terminal's Ctrl+C reaches every
    /// process of `cmm train` and the launcher forwards it to its workers too (it must, for a `docker stop` that signals
    /// the launcher alone), so each worker gets two at once; taken as "stop waiting", they made the workers quit without
    /// their checkpoint.
    /// </summary>
    public static readonly TimeSpan SameStopWindow = TimeSpan.FromSeconds(2);

    private static readonly Lock s_gate = new();
    private static Signals? s_process;

    private readonly CancellationTokenSource _graceful = new(), _immediate = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly TimeSpan _sameStopWindow;
    private long _firstSignal;

    /// <summary>
    /// The process's one handler, installed on first use and kept until the process exits: a signal that lands while the
    /// command returns finds the command done, and the process exits with the command's code.
    /// </summary>
    public static Signals ForProcess()
    {
        lock (s_gate) return s_process ??= new Signals(SameStopWindow);
    }

    internal Signals(TimeSpan sameStopWindow)
    {
        _sameStopWindow = sameStopWindow;
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
            long now = Stopwatch.GetTimestamp();
            long first = Interlocked.CompareExchange(ref _firstSignal, now, 0);
            if (first == 0) _graceful.Cancel();
            else if (Stopwatch.GetElapsedTime(first, now) >= _sameStopWindow) _immediate.Cancel();
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
