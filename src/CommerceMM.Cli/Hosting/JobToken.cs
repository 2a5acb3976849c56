using System.Security.Cryptography;

namespace CommerceMM.Cli.Hosting;

/// <summary>The job's bearer token comes from a file or the environment, never from flags or the spec (they leak into logs and `ps`).</summary>
internal static class JobToken
{
    public const string Variable = "CMM_JOB_TOKEN";

    public static string Read(string? tokenFile)
    {
        if (tokenFile is not null)
        {
            if (!File.Exists(tokenFile)) throw new ArgumentException($"--token-file '{tokenFile}' does not exist");
            string fromFile = File.ReadAllText(tokenFile).Trim();
            return fromFile.Length > 0 ? fromFile : throw new ArgumentException($"--token-file '{tokenFile}' is empty");
        }
        return Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : throw new ArgumentException($"no job token: set {Variable} or pass --token-file (Kubernetes: mount the job's Secret)");
    }

    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
