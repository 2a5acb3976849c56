using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CommerceMM.Coordinator.Tests.Hosting;

public sealed class SignalOwnershipTests
{
    [Fact]
    public async Task TheCoordinatorsHost_LeavesSignalsToTheProcess()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();

        // The default console lifetime cancelled a starting silo on SIGTERM, and `cmm coordinator` or `cmm train` then
        // crashed with the cancelled start (exit 134) instead of stopping as its own handler does.
        Assert.IsType<CallerOwnedLifetime>(coordinator.Host.Services.GetRequiredService<IHostLifetime>());
    }
}
