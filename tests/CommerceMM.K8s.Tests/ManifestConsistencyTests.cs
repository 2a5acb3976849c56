using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Hosting;
using System.CommandLine;
using System.Globalization;
using CommerceMM.K8s.Tests.Support;
using CommerceMM.Storage.Azure;
using CommerceMM.Tensors;
using CommerceMM.Worker;
using CommerceMM.Worker.Spec;
using YamlDotNet.RepresentationModel;
using DeviceType = TorchSharp.DeviceType;

namespace CommerceMM.K8s.Tests;

/// <summary>Services, probes, ports, annotations and the job spec agree with each other and with what `cmm` will do.</summary>
public sealed class ManifestConsistencyTests
{
    public static TheoryData<string> Overlays => new() { "cpu", "gpu", "multi-silo", "azure-data" };

    private static PodContainer MainContainer(Manifests m, YamlMappingNode workload) => PodContainer.All(m).Single(c => c.Workload == workload && !c.IsInit);

    /// <summary>An option's effective value as cmm resolves it: the flag, else its env variable, else its default.</summary>
    private static string Effective(PodContainer c, string option, string variable, string fallback)
    {
        var result = CmmCli.Parse(c.Args.Select(c.Expand).ToList());
        var o = result.CommandResult.Command.Options.Single(x => x.Name == option);
        if (result.GetResult(o) is { Implicit: false } r) return string.Join(' ', r.Tokens.Select(t => t.Value));
        return c.Value(variable) ?? fallback;
    }

    private static int CoordinatorHttpPort(PodContainer c) =>
        new Uri(Effective(c, "--urls", "CMM_COORDINATOR_URLS", CoordinatorOptions.DefaultUrl).Split(';')[0].Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port;

    private static int ContainerPort(PodContainer c, string portName) =>
        int.Parse(c.Node.Seq("ports").SingleOrDefault(p => p.Str("name") == portName)?.Str("containerPort")
                  ?? throw new Xunit.Sdk.XunitException($"{c.Where} declares no port named {portName}"), CultureInfo.InvariantCulture);

    /// <summary>A Service port's target as a number (it may name a container port).</summary>
    private static int Target(YamlMappingNode servicePort, PodContainer c) =>
        int.TryParse(servicePort.Str("targetPort") ?? servicePort.Str("port"), out int n) ? n : ContainerPort(c, servicePort.Str("targetPort")!);

    private static int CoordinatorGatewayPort(PodContainer c) => int.Parse(Effective(c, "--gateway-port", "CMM_GATEWAY_PORT", "30000"), CultureInfo.InvariantCulture);

    [Theory, MemberData(nameof(Overlays))]
    public void CoordinatorService_ExposesTheHttpAndGatewayPortsCmmListensOn_AndNoStorePort(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var c = MainContainer(m, m.Coordinator);
        // `cmm coordinator` listens on HTTP (status, probes, /metrics), the Orleans gateway (workers) and the silo
        // port (other silos): the pod declares exactly those, the Service exposes the first two, and nothing
        // configures a separate store.
        var command = CmmCli.Parse(c.Args.Select(c.Expand).ToList()).CommandResult.Command;
        Assert.DoesNotContain(command.Options, o => o.Name.StartsWith("--store", StringComparison.Ordinal));
        Assert.Equal(CoordinatorHttpPort(c), ContainerPort(c, "http"));
        Assert.Equal(CoordinatorGatewayPort(c), ContainerPort(c, "gateway"));
        Assert.Equal(int.Parse(Effective(c, "--silo-port", "CMM_SILO_PORT", "11111"), CultureInfo.InvariantCulture), ContainerPort(c, "silo"));
        Assert.Equal(3, c.Node.Seq("ports").Count());
        var ports = m.Single("Service", "cmm-coordinator").Path("spec").Seq("ports").ToList();
        Assert.Equal(2, ports.Count);
        Assert.Equal([CoordinatorHttpPort(c), CoordinatorGatewayPort(c)], ports.Select(p => Target(p, c)).Order());
        Assert.DoesNotContain(PodContainer.All(m).SelectMany(x => x.EnvNames), n => n.StartsWith("CMM_STORE_", StringComparison.Ordinal));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void CoordinatorProbes_HitHealthzOnTheHttpPort(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var c = MainContainer(m, m.Coordinator);
        foreach (string probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var get = c.Node.Path(probe, "httpGet");
            Assert.Equal("/healthz", get.Str("path"));
            string port = get.Str("port") ?? "";
            Assert.Equal(CoordinatorHttpPort(c), int.TryParse(port, out int n) ? n : ContainerPort(c, port));
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Workers_ReachTheCoordinatorGatewayThroughItsService(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var worker = MainContainer(m, m.Workers);
        var coordinator = MainContainer(m, m.Coordinator);
        string gateways = Effective(worker, "--gateways", "CMM_COORDINATOR_GATEWAYS", "127.0.0.1:30000");
        var gateway = Assert.Single(CoordinatorClientOptions.ParseGateways(gateways));
        // The gateway's host is a Service of this job's coordinator pods, its port the one targeting their gateway.
        var service = m.Single("Service", gateway.Split(':')[0].Split('.')[0]).Path("spec");
        var labels = coordinator.Template.Path("metadata", "labels");
        Assert.All(service.Path("selector").Children, s => Assert.Equal(s.Value.ToString(), labels.Str(s.Key.ToString())));
        var port = service.Seq("ports").Single(p => Target(p, coordinator) == CoordinatorGatewayPort(coordinator));
        Assert.Equal(port.Str("port"), gateway.Split(':')[1]);
        Assert.Equal("status.podIP", worker.EnvEntry("CMM_POD_IP")?.Path("valueFrom", "fieldRef").Str("fieldPath"));
    }

    /// <summary>Where job.threads is 0, each worker takes one intra-op thread per CPU its own container requests.</summary>
    [Theory, MemberData(nameof(Overlays))]
    public void WorkerThreads_AreThePodsCpuRequest(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var worker = MainContainer(m, m.Workers);
        var source = worker.EnvEntry("CMM_WORKER_THREADS")?.Path("valueFrom", "resourceFieldRef");
        Assert.NotNull(source);
        Assert.Equal("requests.cpu", source.Str("resource"));
        Assert.Equal(worker.Name, source.Str("containerName"));
        Assert.Equal("1", source.Str("divisor"));
        Assert.NotNull(worker.Node.Path("resources", "requests").Str("cpu"));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void ScrapeAnnotations_MatchTheMetricsPorts_AndPrometheusKubernetesConfig(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var worker = MainContainer(m, m.Workers);
        var coordinator = MainContainer(m, m.Coordinator);
        string Annotation(PodContainer c, string key) => c.Template.Path("metadata", "annotations").Str(key) ?? "";
        Assert.Equal(Effective(worker, "--metrics-port", "CMM_METRICS_PORT", ""), Annotation(worker, "prometheus.io/port"));
        Assert.Equal(ContainerPort(worker, "metrics").ToString(CultureInfo.InvariantCulture), Annotation(worker, "prometheus.io/port"));
        // The coordinator serves /metrics (when it does, see k8s/README.md) on its HTTP port.
        Assert.Equal(CoordinatorHttpPort(coordinator).ToString(CultureInfo.InvariantCulture), Annotation(coordinator, "prometheus.io/port"));

        // Every pod annotation and label the Kubernetes scrape config keys on must be on both pod templates.
        var config = new YamlStream();
        config.Load(new StringReader(File.ReadAllText(Path.Combine(Kustomize.RepoRoot, "cluster", "prometheus", "prometheus-kubernetes.yml"))));
        var sources = ((YamlMappingNode)config.Documents[0].RootNode).Seq("scrape_configs").SelectMany(s => s.Seq("relabel_configs"))
            .SelectMany(r => r.Strings("source_labels")).ToHashSet();
        foreach (var c in new[] { worker, coordinator })
        {
            var meta = c.Template.Path("metadata");
            foreach (var (prefix, kind) in new[] { ("__meta_kubernetes_pod_annotation_", "annotations"), ("__meta_kubernetes_pod_label_", "labels") })
            {
                var present = meta.Path(kind).StringMap().Keys.Select(k => prefix + Sanitize(k)).ToHashSet();
                foreach (string wanted in sources.Where(s => s.StartsWith(prefix, StringComparison.Ordinal)))
                    Assert.True(present.Contains(wanted), $"{c.Where}: the pod template lacks the {kind[..^1]} behind {wanted}");
            }
            Assert.Equal("true", Annotation(c, "prometheus.io/scrape"));
            Assert.Equal("commercemm", meta.Path("labels").Str("app.kubernetes.io/name"));
        }
        Assert.Equal("worker", worker.Template.Path("metadata", "labels").Str("app.kubernetes.io/component"));
        Assert.Equal("coordinator", coordinator.Template.Path("metadata", "labels").Str("app.kubernetes.io/component"));
    }

    /// <summary>Prometheus' name for a Kubernetes label or annotation key in service-discovery meta labels.</summary>
    private static string Sanitize(string key) => new(key.Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '_').ToArray());

    /// <summary>
    /// The job spec as the coordinator resolves it (and as every worker then fetches it): the SPEC file
    /// from the mounted ConfigMap, then the coordinator's CMM_* env (values, not secrets), then validation.
    /// </summary>
    private static TrainingSpec ResolvedSpec(Manifests m)
    {
        var coordinator = MainContainer(m, m.Coordinator);

        // The SPEC argument is a file in the mounted ConfigMap.
        var parsed = CmmCli.Parse(coordinator.Args.Select(coordinator.Expand).ToList());
        string specPath = parsed.GetValue<string?>("spec") ?? throw new Xunit.Sdk.XunitException("the coordinator gets no SPEC argument: it would run the embedded default job");
        var mount = coordinator.Node.Seq("volumeMounts").Single(v => specPath.StartsWith(v.Str("mountPath") + "/", StringComparison.Ordinal));
        var volume = coordinator.Template.Path("spec").Seq("volumes").Single(v => v.Str("name") == mount.Str("name"));
        var configMap = m.Single("ConfigMap", volume.Path("configMap").Str("name")!);
        string yaml = configMap.Path("data").Str(Path.GetFileName(specPath)) ?? throw new Xunit.Sdk.XunitException($"ConfigMap has no key {Path.GetFileName(specPath)}");

        var env = coordinator.EnvNames.Where(n => n.StartsWith("CMM_", StringComparison.Ordinal))
            .ToDictionary(n => n, n => coordinator.Value(n) ?? "");
        return SpecLoader.Load(yaml, env);
    }

    [Theory, MemberData(nameof(Overlays))]
    public void JobSpecConfigMap_ValidatesAndAgreesWithTheWorkerJob(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var coordinator = MainContainer(m, m.Coordinator);
        var worker = MainContainer(m, m.Workers);
        var spec = ResolvedSpec(m);

        string workers = spec.Job.Workers.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(workers, m.Workers.Path("spec").Str("completions"));
        Assert.Equal(workers, m.Workers.Path("spec").Str("parallelism"));
        Assert.Equal(spec.Job.Name, Effective(worker, "--job", "CMM_JOB_NAME", ""));
        foreach (var c in new[] { coordinator, worker })
            Assert.Equal(spec.Job.Name, c.Template.Path("metadata", "labels").Str("commercemm.io/job"));
        Assert.True(spec.Checkpoint.Store == "azure:", "pods share no disk: checkpoints and coordinator state must live in blob storage");

        if (AzureFolder.IsAzure(spec.Data.Dir))
        {
            // A pushed data set: the worker and the coordinator fetch it into data.cache_dir, on a volume each may write.
            Assert.DoesNotContain(PodContainer.All(m), c => c.Workload == m.Workers && c.IsInit);
            foreach (var c in new[] { coordinator, worker })
                Assert.Contains(c.Node.Seq("volumeMounts"), v => spec.Data.CacheDir.StartsWith(v.Str("mountPath") + "/", StringComparison.Ordinal) && v.Str("readOnly") != "true"
                    && c.Template.Path("spec").Seq("volumes").Any(vol => vol.Str("name") == v.Str("name") && vol.Children.ContainsKey(new YamlScalarNode("emptyDir"))));
        }
        else
        {
            // The data set the init container builds is the one the spec names, on a volume the worker mounts.
            var init = PodContainer.All(m).Single(c => c.Workload == m.Workers && c.IsInit);
            string built = CmmCli.Parse(init.Args).GetValue<string>("--out")!;
            Assert.Equal(spec.Data.Dir, built);
            Assert.Contains(worker.Node.Seq("volumeMounts"), v => built.StartsWith(v.Str("mountPath") + "/", StringComparison.Ordinal)
                && init.Node.Seq("volumeMounts").Any(i => i.Str("name") == v.Str("name") && i.Str("mountPath") == v.Str("mountPath")));
        }

        // The grace period covers the preemption checkpoint.
        double grace = double.Parse(m.Workers.Path("spec", "template", "spec").Str("terminationGracePeriodSeconds") ?? "30", CultureInfo.InvariantCulture);
        Assert.True(grace >= spec.Checkpoint.GraceSeconds + 10, $"terminationGracePeriodSeconds {grace} leaves no margin over checkpoint.grace_seconds {spec.Checkpoint.GraceSeconds}");
    }

    [Theory, MemberData(nameof(Overlays))]
    public void WorkerJob_IsIndexedWithStableIdentitiesAndAPreemptionAwareFailurePolicy(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var job = m.Workers.Path("spec");
        var pod = job.Path("template", "spec");
        Assert.Equal("Indexed", job.Str("completionMode"));
        Assert.Equal("Never", pod.Str("restartPolicy"));

        var rules = job.Path("podFailurePolicy").Seq("rules");
        Assert.Contains(rules, r => r.Str("action") == "Ignore" && r.Seq("onPodConditions").Any(c => c.Str("type") == "DisruptionTarget"));
        Assert.Contains(rules, r => r.Str("action") == "FailJob" && r.Path("onExitCodes").Str("operator") == "In"
            && r.Path("onExitCodes").Strings("values").Contains(WorkerExitCodes.BadSpec.ToString(CultureInfo.InvariantCulture))
            && r.Path("onExitCodes").Strings("values").Contains(WorkerExitCodes.JobFailed.ToString(CultureInfo.InvariantCulture)));
        Assert.DoesNotContain(rules, r => r.Path("onExitCodes").Strings("values").Contains(WorkerExitCodes.Retry.ToString(CultureInfo.InvariantCulture))
            && r.Str("action") == "FailJob");

        var headless = m.Single("Service", pod.Str("subdomain") ?? "");
        Assert.Equal("None", headless.Path("spec").Str("clusterIP"));
        var podLabels = m.Workers.Path("spec", "template", "metadata", "labels").StringMap();
        Assert.All(headless.Path("spec", "selector").StringMap(), kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));

        var worker = MainContainer(m, m.Workers);
        string id = Effective(worker, "--worker-id", "CMM_WORKER_ID", "");
        Assert.True(worker.EnvEntry("CMM_WORKER_ID")?.Str("value") is { } raw && worker.ReferencedNames().Any(n =>
            raw.Contains($"$({n})", StringComparison.Ordinal) && worker.EnvEntry(n)?.Path("valueFrom", "fieldRef").Str("fieldPath")?.Contains("job-completion-index", StringComparison.Ordinal) == true),
            $"the worker id '{id}' must come from the completion index, so a re-created pod keeps its identity");
        Assert.NotNull(worker.Node.Path("lifecycle", "preStop").Path("exec").Strings("command").FirstOrDefault());
        Assert.NotEmpty(worker.Node.Path("resources", "requests").StringMap());
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Coordinator_ReplicasFitItsClustering_WithABudgetAndSelectorsThatMatch(string overlay)
    {
        var m = Kustomize.Render(overlay);
        var spec = m.Coordinator.Path("spec");
        // A lone silo (localhost clustering) is one replica: two would be two control planes fencing each other.
        // Silos on a shared membership table are one control plane, and two or more survive the loss of one.
        bool multiSilo = ClusteringOptions.Parse(Effective(MainContainer(m, m.Coordinator), "--clustering", "CMM_CLUSTERING", "localhost")).IsMultiSilo;
        int replicas = int.Parse(spec.Str("replicas")!, CultureInfo.InvariantCulture);
        Assert.True(multiSilo ? replicas >= 2 : replicas == 1, $"{replicas} coordinator replicas with {(multiSilo ? "multi-silo" : "localhost")} clustering");
        var podLabels = spec.Path("template", "metadata", "labels").StringMap();
        var pdb = Assert.Single(m.OfKind("PodDisruptionBudget"));
        foreach (var selector in new[] { spec.Path("selector", "matchLabels"), pdb.Path("spec", "selector", "matchLabels"), m.Single("Service", "cmm-coordinator").Path("spec", "selector") })
            Assert.All(selector.StringMap(), kv => Assert.Equal(kv.Value, podLabels.GetValueOrDefault(kv.Key)));
        var c = MainContainer(m, m.Coordinator);
        Assert.NotNull(c.Node.Path("lifecycle", "preStop", "exec").Strings("command").FirstOrDefault());
        Assert.NotEmpty(c.Node.Path("resources", "requests").StringMap());
    }

    [Fact]
    public void GpuOverlay_RequestsGpusAndSetsNccl_CpuOverlayDoesNot()
    {
        var gpu = MainContainer(Kustomize.Render("gpu"), Kustomize.Render("gpu").Workers);
        var cpu = MainContainer(Kustomize.Render("cpu"), Kustomize.Render("cpu").Workers);
        Assert.Equal("1", gpu.Node.Path("resources", "requests").Str("nvidia.com/gpu"));
        Assert.Equal("1", gpu.Node.Path("resources", "limits").Str("nvidia.com/gpu"));
        Assert.Contains(gpu.EnvNames, n => n.StartsWith("NCCL_", StringComparison.Ordinal));
        Assert.Equal("eth0", gpu.Value("NCCL_SOCKET_IFNAME"));
        Assert.Null(cpu.Node.Path("resources", "requests").Str("nvidia.com/gpu"));
        Assert.DoesNotContain(cpu.EnvNames, n => n.StartsWith("NCCL_", StringComparison.Ordinal));
        Assert.NotEqual(gpu.Node.Str("image"), cpu.Node.Str("image"));
    }

    [Theory]
    [InlineData("cpu", DeviceType.CPU)]
    [InlineData("gpu", DeviceType.CUDA)]
    public void JobDevice_IsTheOverlays_AndEveryWorkerPodHasThatDevice(string overlay, DeviceType expected)
    {
        var m = Kustomize.Render(overlay);
        var (type, index) = DeviceSettings.ParseDevice(ResolvedSpec(m).Job.Device);
        Assert.Equal(expected, type);
        var worker = MainContainer(m, m.Workers);
        if (type != DeviceType.CUDA)
        {
            Assert.Null(worker.Node.Path("resources", "limits").Str("nvidia.com/gpu"));
            return;
        }
        // One rank per GPU: each worker pod is one rank and sees only the GPUs it was given, numbered from 0,
        // so job.device must name one of those (NCCL refuses two ranks on one GPU).
        int gpus = int.Parse(worker.Node.Path("resources", "limits").Str("nvidia.com/gpu") ?? "0", CultureInfo.InvariantCulture);
        Assert.Equal(1, gpus);
        Assert.InRange(index, 0, gpus - 1);
        // The ranks come from the coordinator's join: `cmm worker` has no rank of its own to be given.
        var command = CmmCli.Parse(worker.Args.Select(worker.Expand).ToList()).CommandResult.Command;
        Assert.DoesNotContain(command.Options, o => o.Name.Contains("rank", StringComparison.OrdinalIgnoreCase));
        // The GPU overlay changes the device for the whole job only through the coordinator's spec.
        Assert.DoesNotContain(worker.EnvNames, n => n == "CMM_JOB_DEVICE");
    }

    [Fact]
    public void MultiSilo_TwoSilosOnARedisTheManifestsRun_AdvertisingTheirPodIps_AndWorkersKnowEveryGateway()
    {
        var m = Kustomize.Render("multi-silo");
        var coordinator = MainContainer(m, m.Coordinator);
        Assert.True(int.Parse(m.Coordinator.Path("spec").Str("replicas")!, CultureInfo.InvariantCulture) >= 2);
        Assert.NotEqual("Recreate", m.Coordinator.Path("spec", "strategy").Str("type")); // silos of one job may overlap
        var clustering = ClusteringOptions.Parse(Effective(coordinator, "--clustering", "CMM_CLUSTERING", "localhost"));
        string[] redis = clustering.Redis!.Split(':');
        var redisService = m.Single("Service", redis[0]).Path("spec");
        Assert.Contains(redisService.Seq("ports"), p => p.Str("port") == redis[1]);
        Assert.Equal("status.podIP", coordinator.EnvEntry("CMM_POD_IP")?.Path("valueFrom", "fieldRef").Str("fieldPath"));
        // Workers resolve the gateways' name to every silo: a headless Service.
        var worker = MainContainer(m, m.Workers);
        string host = Effective(worker, "--gateways", "CMM_COORDINATOR_GATEWAYS", "").Split(':')[0];
        Assert.Equal("None", m.Single("Service", host).Path("spec").Str("clusterIP"));
    }
}
