using CommerceMM.Data.Format;
using CommerceMM.Model.Config;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Hosting;

/// <summary>Errors caused by input (spec, data, options) print as one clear line; anything else keeps its stack trace.</summary>
internal static class UserErrors
{
    public static string? Describe(Exception e) => e switch
    {
        SpecException or ConfigException => $"invalid job spec: {e.Message}",
        DatasetException => $"data set problem: {e.Message}",
        CheckpointException => $"checkpoint problem: {e.Message}",
        ArgumentException or FileNotFoundException or DirectoryNotFoundException => e.Message,
        _ => null,
    };
}
