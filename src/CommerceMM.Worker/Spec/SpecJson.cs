using System.Text.Json;

namespace CommerceMM.Worker.Spec;

/// <summary>The spec as the JSON the coordinator carries opaquely in its JobSpec.Config.</summary>
public static class SpecJson
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static JsonElement ToJson(TrainingSpec spec) => JsonSerializer.SerializeToElement(spec, Options);

    public static TrainingSpec FromJson(JsonElement? json)
    {
        if (json is not { ValueKind: JsonValueKind.Object } element) throw new SpecException("spec", "the coordinator holds no training spec for this job");
        return SpecValidator.Validate(element.Deserialize<TrainingSpec>(Options) ?? throw new SpecException("spec", "empty training spec"));
    }

    /// <summary>The coordinator's view of the job derived from the spec.</summary>
    public static Coordinator.Contracts.JobSpec ToJobSpec(TrainingSpec spec) => new(
        spec.Job.Name, spec.Job.Workers, spec.Job.MinWorkers, spec.Job.MaxSteps, spec.Checkpoint.Every, spec.Job.MaxRestarts, ToJson(spec),
        KeepLast: spec.Checkpoint.KeepLast, KeepEvery: spec.Checkpoint.KeepEvery);
}
