using System.Text.Json;
using CommerceMM.Model.Config;
using CommerceMM.Model.Tasks;

namespace CommerceMM.Model.Debugging;

/// <summary>config.json and losses.json of a step dump (snake_case keys, as in the job YAML).</summary>
public static class StepDumpJson
{
    public const string Format = "commercemm-step-dump";
    public const int Version = 1;

    /// <summary>How a dump serialises a model configuration: snake_case keys, as in the job YAML (shared with SCALE's dump).</summary>
    public static readonly JsonSerializerOptions ConfigJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>
    /// The whole configuration (derived sizes such as patch_count included), the sampled allocation and
    /// the effective weight of all 14 tasks, so a reader needs no defaults of its own.
    /// </summary>
    public static void WriteConfig(string path, CommerceMMConfig config, StepDumpOptions options, long step, Allocation allocation)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", Format);
        json.WriteNumber("version", Version);
        json.WriteNumber("seed", options.Seed);
        json.WriteNumber("rows", options.Rows);
        json.WriteNumber("warmup_steps", options.WarmupSteps);
        json.WriteNumber("step", step);
        WriteAllocation(json, allocation);
        json.WriteStartObject("task_weights");
        foreach (var task in TaskIds.All) json.WriteNumber(task, config.Weight(task));
        json.WriteEndObject();
        json.WritePropertyName("model");
        JsonSerializer.Serialize(json, config, ConfigJson);
        json.WriteEndObject();
    }

    /// <summary>Per task: status (ok/absent/disabled), loss (null unless ok) and weight; pass totals; gradient norm.</summary>
    public static void WriteLosses(string path, StepDumpResult result)
    {
        using var file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteNumber("step", result.Step);
        WriteAllocation(json, result.Allocation);
        WriteTasks(json, result.Tasks);
        WriteFinite(json, "pass1_total", result.Pass1Total);
        WriteFinite(json, "pass2_total", result.Pass2Total);
        WriteFinite(json, "grad_norm", result.GradNorm);
        json.WriteEndObject();
    }

    /// <summary>"tasks": {id: {status, loss (null unless ok), weight}} in the given order (shared with SCALE's dump).</summary>
    public static void WriteTasks(Utf8JsonWriter json, IEnumerable<TaskResult> tasks)
    {
        json.WriteStartObject("tasks");
        foreach (var t in tasks)
        {
            json.WriteStartObject(t.Task);
            json.WriteString("status", Status(t.Status));
            // JSON has no NaN: a task that did not run has no loss.
            if (t.Status == TaskOutcome.Ok) json.WriteNumber("loss", t.Loss);
            else json.WriteNull("loss");
            json.WriteNumber("weight", t.Weight);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    public static string Status(TaskOutcome outcome) => outcome switch
    {
        TaskOutcome.Ok => "ok",
        TaskOutcome.Absent => "absent",
        TaskOutcome.Disabled => "disabled",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    private static void WriteAllocation(Utf8JsonWriter json, Allocation allocation)
    {
        json.WriteStartObject("allocation");
        json.WriteNumber("text", allocation.Text);
        json.WriteNumber("image", allocation.Image);
        json.WriteNumber("fusion", allocation.Fusion);
        json.WriteEndObject();
    }

    /// <summary>A number, or null where it is NaN or infinite (JSON has neither).</summary>
    public static void WriteFinite(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }
}
