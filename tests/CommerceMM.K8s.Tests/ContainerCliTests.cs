using CommerceMM.K8s.Tests.Support;

namespace CommerceMM.K8s.Tests;

/// <summary>Every container that runs `cmm` passes only arguments and CMM_* variables that `cmm` really has.</summary>
public sealed class ContainerCliTests
{
    public static TheoryData<string> Overlays => new() { "cpu", "gpu", "multi-silo", "azure-data" };

    /// <summary>Variables that are not cmm's but that a container may legitimately set, with the reason.</summary>
    private static bool IsForeignVariableAllowed(string name) =>
        name == "OMP_WAIT_POLICY"               // read by libtorch's OpenMP at load time (PLATFORM.md, Threads)
        || name.StartsWith("NCCL_", StringComparison.Ordinal)   // read by NCCL in the GPU image
        || name.StartsWith("DOTNET_", StringComparison.Ordinal); // read by the .NET host

    [Theory, MemberData(nameof(Overlays))]
    public void Args_ParseWithCmm_WithoutErrors(string overlay)
    {
        var containers = PodContainer.All(Kustomize.Render(overlay)).ToList();
        Assert.NotEmpty(containers);
        foreach (var c in containers)
        {
            Assert.True(c.RunsCmm, $"{c.Where} runs {string.Join(' ', c.Command)}; every container here should run cmm");
            var args = c.Args.Select(c.Expand).ToList();
            Assert.True(args.Count > 0, $"{c.Where} has no args: it would only print cmm's help");
            var result = CmmCli.Parse(args);
            Assert.True(result.Errors.Count == 0,
                $"{c.Where}: `cmm {string.Join(' ', args)}` does not parse: {string.Join("; ", result.Errors.Select(e => e.Message))}");
            Assert.NotEqual("", CmmCli.PathOf(result));
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Args_RunTheExpectedCommands(string overlay)
    {
        var manifests = Kustomize.Render(overlay);
        string CommandOf(PodContainer c) => CmmCli.PathOf(CmmCli.Parse(c.Args.Select(c.Expand).ToList()));
        var containers = PodContainer.All(manifests).ToList();
        Assert.Equal("coordinator", CommandOf(containers.Single(c => c.Workload == manifests.Coordinator)));
        Assert.Equal("worker", CommandOf(containers.Single(c => c.Workload == manifests.Workers && !c.IsInit)));
        var init = containers.Where(c => c.Workload == manifests.Workers && c.IsInit).ToList();
        // azure-data's workers fetch a pushed data set themselves; the others build Fashion-MNIST's first.
        if (overlay == "azure-data") Assert.Empty(init);
        else Assert.Equal("data build fashion", CommandOf(Assert.Single(init)));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void EnvCmmNames_AreReadByTheCommandTheContainerRuns(string overlay)
    {
        foreach (var c in PodContainer.All(Kustomize.Render(overlay)))
        {
            var command = CmmCli.Parse(c.Args.Select(c.Expand).ToList()).CommandResult.Command;
            var known = CmmCli.KnownEnvironment(command);
            foreach (string name in c.EnvNames.Where(n => n.StartsWith("CMM_", StringComparison.Ordinal)))
                Assert.True(known.Contains(name),
                    $"{c.Where} sets {name}, which `cmm {CmmCli.PathOf(CmmCli.Parse(c.Args.Select(c.Expand).ToList()))}` never reads " +
                    $"(it reads: {string.Join(", ", known.Order().Take(12))}{(known.Count > 12 ? ", ..." : "")})");
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void EnvOtherNames_AreAllowedOrOnlyExpansionHelpers(string overlay)
    {
        foreach (var c in PodContainer.All(Kustomize.Render(overlay)))
        {
            var helpers = c.ReferencedNames();
            foreach (string name in c.EnvNames.Where(n => !n.StartsWith("CMM_", StringComparison.Ordinal)))
                Assert.True(IsForeignVariableAllowed(name) || helpers.Contains(name),
                    $"{c.Where} sets {name}: neither cmm, libtorch, NCCL nor .NET reads it, and no $({name}) uses it");
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void EveryContainer_SetsOmpWaitPolicyPassive(string overlay)
    {
        // OpenMP reads it when libtorch loads; it must be in the environment the process starts with.
        foreach (var c in PodContainer.All(Kustomize.Render(overlay)))
            Assert.True(c.Value("OMP_WAIT_POLICY") == "PASSIVE", $"{c.Where} lacks OMP_WAIT_POLICY=PASSIVE (PLATFORM.md, Threads)");
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Secrets_ComeFromSecretRefsOrMounts_NeverLiterals(string overlay)
    {
        var manifests = Kustomize.Render(overlay);
        Assert.Empty(manifests.OfKind("Secret"));
        foreach (var c in PodContainer.All(manifests))
        {
            foreach (string secret in new[] { CommerceMM.Cli.Hosting.JobToken.Variable, CommerceMM.Worker.Spec.BlobStores.AzureConnectionVariable })
            {
                var entry = c.EnvEntry(secret);
                if (entry is null) continue;
                Assert.True(entry.Str("value") is null && entry.Path("valueFrom", "secretKeyRef").Str("name") is not null,
                    $"{c.Where}: {secret} must come from a secretKeyRef, not a literal");
            }
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void JobContainers_HaveTheTokenAndBlobCredentials(string overlay)
    {
        var manifests = Kustomize.Render(overlay);
        foreach (var c in PodContainer.All(manifests).Where(c => !c.IsInit))
        {
            var args = c.Args.Select(c.Expand).ToList();
            var result = CmmCli.Parse(args);
            bool tokenFile = result.GetResult(result.CommandResult.Command.Options.Single(o => o.Name == "--token-file")) is { Implicit: false };
            Assert.True(tokenFile || c.EnvEntry(CommerceMM.Cli.Hosting.JobToken.Variable) is not null, $"{c.Where} has no job token (--token-file or {CommerceMM.Cli.Hosting.JobToken.Variable})");
            if (tokenFile)
            {
                string path = result.GetValue<string?>("--token-file")!;
                var mounts = c.Node.Seq("volumeMounts");
                var secretVolumes = c.Template.Path("spec").Seq("volumes").Where(v => v.Path("secret").Str("secretName") is not null).Select(v => v.Str("name")).ToHashSet();
                Assert.True(mounts.Any(m => secretVolumes.Contains(m.Str("name")) && path.StartsWith(m.Str("mountPath") + "/", StringComparison.Ordinal)),
                    $"{c.Where}: --token-file {path} is not inside a mounted Secret volume");
            }
            // The spec's store is azure: (checked in ManifestConsistencyTests), which both processes open.
            Assert.True(c.EnvEntry(CommerceMM.Worker.Spec.BlobStores.AzureConnectionVariable) is not null, $"{c.Where} has no blob credentials");
        }
    }
}
