using System.Text.Json;
using System.Text.Json.Serialization;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.Tasks;
using CommerceMM.Scale.Config;

namespace CommerceMM.Scale.Debugging;

/// <summary>
/// config.json and losses.json of a SCALE step dump: the conventions of CommerceMM's
/// (<see cref="StepDumpJson"/>: snake_case, a format name and version, tasks as status/loss/weight),
/// marked "scale-step-dump" so neither reference mistakes the other's dump for its own.
/// </summary>
public static class ScaleStepDumpJson
{
    public const string Format = "scale-step-dump";
    public const int Version = 1;
    public const string Kind = "scale";

    // Modalities as names ("image"), not enum numbers, so the reader needs no copy of the enum.
    private static readonly JsonSerializerOptions ConfigJson = new(StepDumpJson.ConfigJson)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The whole configuration (derived sizes included), the enabled modalities and the weight of all 15 tasks.</summary>
    public static void WriteConfig(string path, ScaleConfig config, StepDumpOptions options, long step)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", Version);
        json.WriteString("kind", Kind);
        json.WriteNumber("seed", options.Seed);
        json.WriteNumber("rows", options.Rows);
        json.WriteNumber("warmup_steps", options.WarmupSteps);
        json.WriteNumber("step", step);
        json.WriteStartArray("modalities");
        foreach (var m in config.Modalities.OrderBy(x => x)) json.WriteStringValue(m.Name());
        json.WriteEndArray();
        json.WriteStartObject("task_weights");
        foreach (var task in ScaleTaskIds.All) json.WriteNumber(task, config.Weight(task));
        json.WriteEndObject();
        json.WritePropertyName("model");
        JsonSerializer.Serialize(json, config, ConfigJson);
        json.WriteEndObject();
    }

    /// <summary>Tasks (status, loss, weight), the mean harmonized weight per modality (status, mean), total and gradient norm.</summary>
    public static void WriteLosses(string path, ScaleStepDumpResult result)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteNumber("step", result.Step);
        StepDumpJson.WriteTasks(json, result.Tasks);
        json.WriteStartObject("harmonized_weights");
        foreach (var w in result.Weights)
        {
            json.WriteStartObject(w.Modality.Name());
            json.WriteString("status", StepDumpJson.Status(w.Status));
            if (w.Status == TaskOutcome.Ok) json.WriteNumber("mean", w.Mean);
            else json.WriteNull("mean");
            json.WriteEndObject();
        }
        json.WriteEndObject();
        StepDumpJson.WriteFinite(json, "total", result.Total);
        StepDumpJson.WriteFinite(json, "grad_norm", result.GradNorm);
        json.WriteEndObject();
    }
}
