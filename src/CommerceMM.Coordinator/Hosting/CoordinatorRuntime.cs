namespace CommerceMM.Coordinator.Hosting;

/// <summary>Facts fixed at start-up that handlers hand to workers: the liveness settings.</summary>
internal sealed record CoordinatorRuntime(LivenessOptions Liveness);
