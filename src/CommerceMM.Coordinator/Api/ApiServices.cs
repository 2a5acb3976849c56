using CommerceMM.Coordinator.Entities;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Metrics;

namespace CommerceMM.Coordinator.Api;

/// <summary>What every handler needs, bound with <c>[AsParameters]</c> (eShop's CatalogServices shape).</summary>
internal sealed class ApiServices(EntityDirectory directory, CoordinatorRuntime runtime, FleetMetricsFeed fleet)
{
    public FleetMetricsFeed Fleet { get; } = fleet;

    public EntityDirectory Directory { get; } = directory;

    public CoordinatorRuntime Runtime { get; } = runtime;

    /// <summary>The job's entities; the token middleware has already answered 404 for unknown jobs.</summary>
    public JobEntities Job(string job) =>
        Directory.TryGet(job, out JobEntities? entities) ? entities : throw new InvalidOperationException($"Job '{job}' passed the token check but has no entities.");
}
