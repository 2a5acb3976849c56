using CommerceMM.Cli.Hosting;
using CommerceMM.Worker.Spec;

namespace CommerceMM.Cli.Tests;

/// <summary>What a user sees for a bad spec: the key they wrote, the value, where it came from and what would work; every problem at once.</summary>
public class SpecErrorTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void Set_NotANumber_NamesTheKeyTheValueAndAGoodValue()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment, ["data.batch_size=abc"]));
        var problem = Assert.Single(error.Errors);
        Assert.Equal("data.batch_size", problem.Key);
        Assert.Equal("'abc' (from --set) is not a whole number; for example --set data.batch_size=32", problem.Message);
        Assert.DoesNotContain("model", error.Message);
    }

    [Theory]
    [InlineData("checkpoint.every_steps", "unknown key; did you mean checkpoint.every?")]  // a word too many: 6 edits away
    [InlineData("data.batch_sise", "unknown key; did you mean data.batch_size?")]
    [InlineData("checkpoint.keep", "unknown key; checkpoint has store, container, every, keep_last, keep_every, grace_seconds")] // no one guess
    [InlineData("train.steps", "unknown key; did you mean job.max_steps or optimizer.warmup_steps?")]                          // no such section
    [InlineData("batch_size", "unknown key; did you mean data.batch_size?")]
    [InlineData("trainer.epochs", "unknown key; keys are section.key, and the sections are job, model, data, optimizer, checkpoint")]
    public void Set_UnknownKey_NamesTheKeyItMostLikelyMeant(string key, string expected)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment, [$"{key}=10"]));
        var problem = Assert.Single(error.Errors);
        Assert.Equal(key, problem.Key);
        Assert.StartsWith(expected, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tiny_OnACatalogsImages_IsWarnedWhichPresetFitsThem()
    {
        var spec = SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment, ["data.dir=/data/shop"]);

        string? warning = ModelConfigFactory.OversizedImagesWarning(spec, ModelConfigFactory.Create(spec.Model, 300, (3, 224)));

        Assert.Equal("preset tiny cuts the 224-pixel images of data.dir '/data/shop' into 1,024 patches each, 64 times the 16 it is sized for (28-pixel images), " +
                     "so its steps take far longer; for these images use model.preset=base (196 patches), or build the data set with --image-size 28 for this preset", warning);
        Assert.Null(ModelConfigFactory.OversizedImagesWarning(spec, ModelConfigFactory.Create(spec.Model, 300, (3, 56))));
    }

    [Fact]
    public void ShortRun_WithTheDefaultWarmup_IsToldTheValueThatFits()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(SpecSource.EmbeddedDefault(), NoEnvironment, ["job.max_steps=20"]));

        Assert.Equal("optimizer.warmup_steps: must be in 0..job.max_steps (20), got 30; for a short run lower it too, e.g. --set optimizer.warmup_steps=2",
            Assert.Single(error.Errors).ToString());
    }

    [Fact]
    public void Environment_NotANumber_NamesTheVariable()
    {
        var environment = new Dictionary<string, string> { ["CMM_DATA_BATCH_SIZE"] = "abc" };
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(SpecSource.EmbeddedDefault(), environment));
        Assert.Equal("data.batch_size", error.Key);
        Assert.Equal("data.batch_size: 'abc' (from CMM_DATA_BATCH_SIZE) is not a whole number; for example CMM_DATA_BATCH_SIZE=32", error.Message);
    }

    [Theory]
    [InlineData("optimizer.lr=fast", "optimizer.lr", "'fast' (from --set) is not a number; for example --set optimizer.lr=0.001")]
    [InlineData("job.seed=-3", "job.seed", "'-3' (from --set) is out of range (0..18446744073709551615); for example --set job.seed=1")]
    [InlineData("job.workers=99999999999", "job.workers", "'99999999999' (from --set) is out of range (-2147483648..2147483647); for example --set job.workers=2")]
    [InlineData("job.workers=2.5", "job.workers", "'2.5' (from --set) is not a whole number; for example --set job.workers=2")]
    [InlineData("model.masked_weight_gradient=maybe", "model.masked_weight_gradient", "'maybe' (from --set) is not true or false")]
    public void Set_WrongType_SaysWhatIsExpected(string assignment, string key, string message)
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, [assignment]));
        Assert.Equal(new SpecError(key, message), Assert.Single(error.Errors));
    }

    [Fact]
    public void YamlWrongType_NamesTheKeyAndItsLine()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("job:\n  name: x\n  workers: many\n", NoEnvironment));
        Assert.Equal("job.workers: 'many' (line 3) is not a whole number; for example workers: 2", error.Message);
    }

    [Fact]
    public void SeveralProblems_AreReportedTogether_InSpecOrder_OnePerLine()
    {
        const string yaml = """
            checkpoint:
              store: s3://bucket
            job:
              workers: many
            data:
              batch_sise: 4
              prefetch: 0
            model:
              allocations:
                - {text: x, image: 1, fusion: 1}
            """;
        var environment = new Dictionary<string, string> { ["CMM_OPTIMIZER_LR"] = "-1" };
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(yaml, environment, ["data.batch_size=abc", "job.nmae=x"]));

        Assert.Equal(
            ["job.nmae", "job.workers", "model.allocations[0].text", "data.batch_sise", "data.batch_size", "data.prefetch", "optimizer.lr", "checkpoint.store"],
            error.Errors.Select(e => e.Key));
        Assert.Equal("job.nmae", error.Key);
        Assert.Equal(error.Errors.Select(e => e.ToString()), error.Message.Split('\n'));
        Assert.Contains("did you mean data.batch_size?", error.Errors[3].Message);
        Assert.Contains("'x' (line 10) is not a whole number", error.Errors[2].Message);
        Assert.Equal("must be > 0, got -1", error.Errors[6].Message);
    }

    [Fact]
    public void ABadValue_IsReportedOnce_NotAgainByTheChecksItsDefaultPasses()
    {
        // job.max_steps is unreadable, so its default (300) stands in; warmup_steps=500 must not be blamed against that default.
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, ["job.max_steps=lots", "optimizer.warmup_steps=500"]));
        Assert.Equal("job.max_steps", Assert.Single(error.Errors).Key);
    }

    [Fact]
    public void ScaleProblems_AreAllReported()
    {
        string yaml = File.ReadAllText(Path.Combine(CmmProcess.RepositoryRoot, "cluster/jobs/fashion-scale-tiny.yaml"));
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load(yaml, NoEnvironment, ["model.preset=base", "model.prototypes=64", "model.modalities=[image, smell]"]));
        Assert.Equal(["model.preset", "model.prototypes", "model.modalities"], error.Errors.Select(e => e.Key));
    }

    [Fact]
    public void AzureContainerName_IsCheckedAtLoad()
    {
        var error = Assert.Throws<SpecException>(() => SpecLoader.Load("", NoEnvironment, ["checkpoint.store=azure:", "checkpoint.container=My_Container"]));
        Assert.Equal("checkpoint.container", error.Key);
        Assert.Contains("'My_Container'", error.Message);
    }

    [Fact]
    public void UserErrors_PrintsEveryProblemOnItsOwnLine()
    {
        var error = new SpecException([new SpecError("job.workers", "bad"), new SpecError("data.dir", "missing")]);
        Assert.Equal("invalid job spec (2 problems):\n  job.workers: bad\n  data.dir: missing", UserErrors.Describe(error));
        Assert.Equal("invalid job spec: job.workers: bad", UserErrors.Describe(new SpecException("job.workers", "bad")));
    }

    [Fact]
    public void UserErrors_OutOfMemory_IsOneLineAskingForLess_NotAStackTrace()
    {
        // 16 TiB: libtorch's CPU allocator refuses at once, as it refuses past a command's cap (bench and eval on the CPU).
        var failure = Assert.ThrowsAny<Exception>(() => TorchSharp.torch.empty(1L << 42, TorchSharp.torch.ScalarType.Float32));

        string? message = UserErrors.Describe(failure);

        Assert.NotNull(message);
        Assert.StartsWith("out of memory", message, StringComparison.Ordinal);
        Assert.Contains("DefaultCPUAllocator: can't allocate memory", message, StringComparison.Ordinal);
        Assert.EndsWith("Ask for less (a smaller --batch, --rows, --limit or --probe-items), or run it where more memory is free", message, StringComparison.Ordinal);
        Assert.DoesNotContain("frame #", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model")]
    [InlineData("engine")]
    public void Bench_RepoWithoutThePeerScript_IsRefusedBeforeAnyWork_NamingRepo(string bench)
    {
        using var cmm = new CmmProcess("bench", bench, "--repo", Path.GetTempPath(), "--rounds", "1");
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.StartsWith($"cmm: --repo '{Path.GetFullPath(Path.GetTempPath())}': no tools/", cmm.Output);
        Assert.DoesNotContain("round 1", cmm.Output);
    }

    [Fact]
    public void Bench_RepoDefault_IsTheCheckoutCmmWasBuiltIn_NotTheCurrentFolder()
    {
        var repo = CommerceMM.Cli.Commands.CommonOptions.Repo("tools/bench/engine.py");
        string parsed = new System.CommandLine.RootCommand { repo }.Parse([]).GetValue(repo)!.FullName;
        Assert.NotEqual(Directory.GetCurrentDirectory().TrimEnd('/'), CmmProcess.RepositoryRoot.TrimEnd('/'));
        Assert.Equal(CmmProcess.RepositoryRoot.TrimEnd('/'), parsed.TrimEnd('/'));
    }

    [Theory]
    [InlineData("status", "--coordinator", "notaurl", "--coordinator 'notaurl' is not an http(s) URL")]
    [InlineData("checkpoints", "--step", "x", "--step 'x' is not a step number or 'latest'")]
    [InlineData("eval", "--checkpoint", "nonsense", "--checkpoint 'nonsense' is not a step number or 'latest'")]
    [InlineData("worker", "--gateways", "http://coordinator:7070", "--gateways: coordinator gateway 'http://coordinator:7070' must be host:port")]
    [InlineData("coordinator", "--clustering", "zookeeper=zk:2181", "--clustering: clustering 'zookeeper=zk:2181' is not 'localhost', 'redis=HOST:PORT'")]
    [InlineData("coordinator", "--gateway-port", "70000", "--gateway-port '70000' is not a port 1-65535")]
    public void Cmm_BadOptionValue_IsAnErrorNamingTheOption_NotACrash(string command, string option, string value, string message)
    {
        string[] args = command == "checkpoints" ? ["checkpoints", "inspect", option, value] : [command, option, value];
        using var cmm = new CmmProcess(args);
        Assert.Equal(1, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains(message, cmm.Output);
        Assert.DoesNotContain("Unhandled exception", cmm.Output);
    }

    [Theory]
    [InlineData("--limit", "-5", "--limit must be at least 1, got -5")]
    [InlineData("--vocab", "10", "--vocab must be in 64..1000000, got 10")]
    [InlineData("--modalities", "image,smell", "--modalities: unknown modality 'smell'; use any of image,text,table,video,audio")]
    public void DataBuild_BadOptionValue_NamesTheOptionAndBuildsNothing(string option, string value, string message)
    {
        string output = Path.Combine(Path.GetTempPath(), $"cmm-data-{Guid.NewGuid():N}");
        using var cmm = new CmmProcess("data", "build", "fashion", "--out", output, option, value);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains(message, cmm.Output);
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData("bench", "model", "--batch", "0", "--batch must be at least 1, got 0")]
    [InlineData("debug", "dump-step", "--out", "/tmp/cmm-never", "--rows", "0", "--rows must be at least 1, got 0")]
    [InlineData("eval", "--probe-items", "0", "--probe-items must be at least 1, got 0")]
    [InlineData("bench", "engine", "--rounds", "0", "--rounds must be at least 1, got 0")]
    public void CountOptionBelowItsLeast_IsOneLineNamingIt(params string[] argsThenMessage)
    {
        using var cmm = new CmmProcess(argsThenMessage[..^1]);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"cmm: {argsThenMessage[^1]}", cmm.Output);
        Assert.DoesNotContain("Parameter", cmm.Output);
    }

    [Fact]
    public void Eval_WithoutTheDataSet_SaysSo_WithoutTheSpecPrintedAboveIt()
    {
        using var cmm = new CmmProcess(["eval", "--set", "data.dir=/nonexistent-cmm-data"]);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("cmm: invalid job spec: data.dir: '/nonexistent-cmm-data' holds no dataset.json; evaluation needs the data set the job trained on", cmm.Output);
        Assert.DoesNotContain("resolved job spec", cmm.Output);
    }

    [Theory]
    [InlineData("--modalities image+text", "--modalities is for SCALE models; job 'fashion-tiny' trains a CommerceMM model (model.kind: commercemm), evaluated by allocation: --allocation")]
    [InlineData("cluster/jobs/fashion-scale-tiny.yaml --allocation t1-v1-f1", "--allocation is for CommerceMM models; job 'fashion-scale-tiny' trains a SCALE model (model.kind: scale), evaluated by modality set: --modalities")]
    [InlineData("cluster/jobs/fashion-scale-tiny.yaml --modalities image+smell", "--modalities: unknown modality 'smell' (known: image, text, table, video, audio); give 'trained', 'ablation' or rows like image+text;image+text+table")]
    [InlineData("cluster/jobs/fashion-scale-tiny.yaml --modalities ;", "--modalities: no modality set in ';'; give")]
    public void Eval_AnOptionOfTheOtherModelKind_OrAModalityNoModelHas_IsRefusedBeforeTheWork(string args, string message)
    {
        using var cmm = new CmmProcess(["eval", .. args.Split(' ').Select(a => a.StartsWith("cluster/", StringComparison.Ordinal) ? Path.Combine(CmmProcess.RepositoryRoot, a) : a)]);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"cmm: {message}", cmm.Output);
        Assert.DoesNotContain("resolved job spec", cmm.Output);
    }

    [Theory]
    [InlineData("data", "build", "fashion", "--limit", "10", "--out", "/proc/corpus")]
    [InlineData("eval", "--out", "/proc/eval")]
    [InlineData("debug", "dump-step", "--out", "/proc/dump")]
    public void OutputFolderNobodyCanWrite_IsRefusedBeforeTheWork_NamingOut(params string[] args)
    {
        using var cmm = new CmmProcess(args);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"cmm: --out '{args[^1]}': cannot write there", cmm.Output);
        Assert.DoesNotContain("resolved job spec", cmm.Output);
        Assert.DoesNotContain("   at ", cmm.Output);
    }

    [Fact]
    public void Status_NoCoordinatorAnswers_ExitsTwoWithAMessage_NotACrash()
    {
        var environment = new Dictionary<string, string> { ["CMM_JOB_TOKEN"] = "test-token-0123456789" };
        // Bound and never listening: connections are refused, and no other test's server can take the port meanwhile
        // (a free port released at once was once taken by a parallel test's coordinator, which answered 404).
        using var reserved = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        reserved.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        string url = $"http://127.0.0.1:{((System.Net.IPEndPoint)reserved.LocalEndPoint!).Port}";
        using var cmm = new CmmProcess(environment, "status", "--coordinator", url);
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains($"cmm: coordinator {url}/ did not answer", cmm.Output);
        Assert.Contains("is the job's coordinator running?", cmm.Output);
        Assert.DoesNotContain("Unhandled exception", cmm.Output);
    }

    [Fact]
    public void Cmm_BadSetValue_ExitsTwo_WithOneLineNamingTheKey()
    {
        using var cmm = new CmmProcess("train", "--set", "data.batch_size=abc", "--set", "optimizer.lr=-1");
        Assert.Equal(2, cmm.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Contains("cmm: invalid job spec (2 problems):", cmm.Output);
        Assert.Contains("  data.batch_size: 'abc' (from --set) is not a whole number; for example --set data.batch_size=32", cmm.Output);
        Assert.Contains("  optimizer.lr: must be > 0, got -1", cmm.Output);
        Assert.DoesNotContain("model (line", cmm.Output);
    }
}
