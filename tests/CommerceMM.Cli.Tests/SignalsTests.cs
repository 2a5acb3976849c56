using System.Runtime.InteropServices;
using CommerceMM.Cli.Hosting;

namespace CommerceMM.Cli.Tests;

public class SignalsTests
{
    [Fact]
    public void ASignalWhoseHandlerRunsAfterTheCommandReturned_IsIgnored_NotACrash()
    {
        var signals = new Signals(Signals.SameStopWindow);
        signals.Dispose(); // the command returned (a worker exiting 75) just as its pod was stopped

        // Before, the handler cancelled a disposed token source on the signal thread: an unhandled exception, exit 134.
        var context = new PosixSignalContext(PosixSignal.SIGTERM);
        signals.Handle(context);

        Assert.True(context.Cancel);
    }

    [Fact]
    public void FirstSignal_AsksForAGracefulStop_TheSecondStopsWaiting()
    {
        using var signals = new Signals(sameStopWindow: TimeSpan.Zero);

        signals.Handle(new PosixSignalContext(PosixSignal.SIGTERM));
        Assert.True(signals.Graceful.IsCancellationRequested);
        Assert.False(signals.Immediate.IsCancellationRequested);

        signals.Handle(new PosixSignalContext(PosixSignal.SIGINT));
        Assert.True(signals.Immediate.IsCancellationRequested);
    }

    [Fact]
    public void ASecondSignalAtOnce_IsTheSameStop()
    {
        using var signals = new Signals(Signals.SameStopWindow);

        // A terminal's Ctrl+C and the launcher's forwarded SIGTERM, milliseconds apart.
        signals.Handle(new PosixSignalContext(PosixSignal.SIGINT));
        signals.Handle(new PosixSignalContext(PosixSignal.SIGTERM));

        Assert.True(signals.Graceful.IsCancellationRequested);
        Assert.False(signals.Immediate.IsCancellationRequested);
    }
}
