using System.Net;
using CommerceMM.Cli.Commands;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Tests;

/// <summary>What `cmm status` and `cmm stop` say when the coordinator refuses them or cannot be reached.</summary>
public sealed class JobConnectionTests
{
    [Theory]
    [InlineData(HttpStatusCode.NotFound, ProblemTypes.UnknownJob, "check the job's name (--job, or job.name in the spec)")]
    [InlineData(HttpStatusCode.Unauthorized, null, "check the job token (CMM_JOB_TOKEN or --token-file)")]
    [InlineData(null, null, "is the job's coordinator running? (--coordinator URL names one elsewhere)")]
    public void Explain_NamesTheFixForWhatWentWrong(HttpStatusCode? status, string? problemType, string fix)
    {
        var refused = new CoordinatorException("this coordinator runs no job named 'fashion-tny'", status, problemType);

        ArgumentException explained = new JobConnection().Explain(refused);

        Assert.Equal($"this coordinator runs no job named 'fashion-tny'; {fix}", explained.Message);
    }
}
