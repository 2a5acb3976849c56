using System.Runtime.InteropServices;
using CommerceMM.Build;
using TorchSharp;

namespace CommerceMM.Tensors.Tests;

public class TorchRuntimeTests
{
    private static string PackagedLibTorchSharp()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"the restored TorchSharp package should hold {path}");
        return path;
    }

    [Fact]
    public void GlibcxxPatch_MarksTheRequirementWeakOnce_AndLeavesThePackageCopyAlone()
    {
        string dir = Directory.CreateTempSubdirectory("cmm-elf-").FullName;
        try
        {
            string package = PackagedLibTorchSharp();
            string copy = Path.Combine(dir, "libLibTorchSharp.so");
            File.Copy(package, copy);
            byte[] before = File.ReadAllBytes(package);
            DateTime packageTime = File.GetLastWriteTimeUtc(package);

            Assert.Equal(WeakVersionResult.Patched, WeakVersionNeed.Apply(copy, "GLIBCXX_3.4.32"));
            Assert.Equal(WeakVersionResult.AlreadyWeak, WeakVersionNeed.Apply(copy, "GLIBCXX_3.4.32"));   // idempotent
            Assert.Equal(WeakVersionResult.NotRequired, WeakVersionNeed.Apply(copy, "GLIBCXX_9.9.99"));

            byte[] after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            Assert.Equal(1, before.Zip(after).Count(b => b.First != b.Second));   // one flag byte changed
            Assert.Equal(before, File.ReadAllBytes(package));
            Assert.Equal(packageTime, File.GetLastWriteTimeUtc(copy));   // same time: MSBuild will not recopy it
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void GlibcxxPatch_RefusesAFileThatIsNotElf()
    {
        var error = Assert.Throws<InvalidDataException>(() => WeakVersionNeed.Mark(new byte[100], "GLIBCXX_3.4.32", "junk.so"));
        Assert.Contains("junk.so", error.Message);
    }

    [Fact]
    public void UnpatchedLibrary_LoaderErrorIsExplained_WithTheVersionAndTheFix()
    {
        // Debian 12's libstdc++ stops at GLIBCXX_3.4.30: the package's own copy does not load here.
        string package = PackagedLibTorchSharp();
        var error = Assert.Throws<DllNotFoundException>(() => NativeLibrary.Load(package));
        Assert.Contains("GLIBCXX_3.4.32", error.Message);
        string explained = TorchRuntime.Explain(package, error.Message);
        Assert.Contains("GLIBCXX_3.4.32", explained);
        Assert.Contains("dotnet build", explained);
    }

    [Fact]
    public void NumThreads_Zero_Throws()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.NumThreads = 0);
        Assert.Contains("at least 1", error.Message);
    }

    [Fact]
    public void UseConfiguredThreads_AppliesTheLastSetting_OnAnyThread()
    {
        static int OnNewThread(Func<int> read)
        {
            int value = 0;
            var thread = new Thread(() => value = read());
            thread.Start();
            thread.Join();
            return value;
        }
        int before = TorchRuntime.NumThreads;
        int wanted = before == 1 ? 2 : 1;
        try
        {
            TorchRuntime.NumThreads = wanted;
            Assert.Equal(wanted, TorchRuntime.NumThreads);
            Assert.Equal(wanted, OnNewThread(() => { TorchRuntime.UseConfiguredThreads(); return torch.get_num_threads(); }));
        }
        finally
        {
            TorchRuntime.NumThreads = before;
        }
    }
}
