namespace CommerceMM.Cli.Tests;

/// <summary>Small, fast training settings shared by the end-to-end tests.</summary>
internal static class TrainingArgs
{
    public static string[] Overrides(string job, string data, string runs, int steps, int batch, int every) =>
    [
        "--set", $"job.name={job}", "--set", $"job.max_steps={steps}", "--set", "job.log_every=1",
        "--set", $"data.dir={data}", "--set", $"data.batch_size={batch}",
        "--set", "optimizer.warmup_steps=2", "--set", $"checkpoint.every={every}", "--set", $"checkpoint.store=file:{runs}",
        "--set", "model.prototypes=32",
    ];
}
