using CommerceMM.Observability.Logging;
using CommerceMM.Worker;
using Microsoft.Extensions.Logging.Abstractions;

namespace CommerceMM.Cli.Tests;

public sealed class WorkerStopTests
{
    [Fact]
    public async Task ToldToStopWaiting_ExitsRetry_InsteadOfCrashing()
    {
        // Nothing listens on port 1: the worker is still connecting when a second signal says to stop waiting.
        var options = new WorkerOptions { Coordinator = ["127.0.0.1:1"], Job = "stop-waiting", Token = "token-0123456789abcdef", WorkerId = "w0" };
        using var kill = new CancellationTokenSource();
        kill.Cancel();

        // Before, the cancellation escaped the worker: "Unhandled exception", exit 134.
        int exit = await WorkerRunner.RunAsync(options, NullLoggerFactory.Instance, new LogIdentity("stop-waiting"), CancellationToken.None, kill.Token);

        Assert.Equal(WorkerExitCodes.Retry, exit);
    }
}
