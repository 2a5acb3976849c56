using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CommerceMM.Cli.Tests;

/// <summary>The real `cmm` program in its own process, its output captured line by line.</summary>
internal sealed class CmmProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public CmmProcess(params string[] args) : this(new Dictionary<string, string>(), args) { }

    public CmmProcess(IReadOnlyDictionary<string, string> environment, params string[] args) : this(environment, ownProcessGroup: false, args) { }

    /// <param name="ownProcessGroup">start it as a terminal starts a command: leading a process group of its own, which the
    /// workers it starts join (`setsid` execs dotnet in place, so <see cref="Id"/> is cmm's own); see <see cref="TerminateGroup"/></param>
    public CmmProcess(IReadOnlyDictionary<string, string> environment, bool ownProcessGroup, params string[] args)
    {
        var info = new ProcessStartInfo(ownProcessGroup ? "setsid" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ownProcessGroup) info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(Bin, "cmm.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output => string.Join("\n", _lines);

    public int Id => _process.Id;

    /// <summary>The checkout's root (holding the solution), for the shipped job files.</summary>
    /// <summary>
    /// The cmm the tests run: the precompiled publish that tools/test makes with tools/cmm and names in CMM_BIN (every
    /// process starts faster), or else this test project's own copy of the build.
    /// </summary>
    public static string Bin { get; } = Environment.GetEnvironmentVariable("CMM_BIN") is { Length: > 0 } bin ? bin : AppContext.BaseDirectory;

    public static string RepositoryRoot { get; } = FindRoot(AppContext.BaseDirectory);

    private static string FindRoot(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CommerceMM.Distributed.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no CommerceMM.Distributed.sln above {from}");
    }

    /// <summary>Waits until a line contains text (or the process exits, or the deadline passes).</summary>
    public bool WaitForLine(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_lines.Any(l => l.Contains(text, StringComparison.Ordinal))) return true;
            if (_process.HasExited) return false;
            Thread.Sleep(100);
        }
        return false;
    }

    public void Terminate() => kill(_process.Id, 15);

    /// <summary>SIGTERM to every process of its group at once, as a terminal's Ctrl+C (SIGINT) or `kill -TERM -PGID` sends it.</summary>
    public void TerminateGroup() => kill(-_process.Id, 15);

    public void KillHard() => kill(_process.Id, 9);

    /// <summary>SIGKILLs the process whose command line contains every fragment (a worker started by `cmm train`).</summary>
    public static void KillHard(params string[] commandLineFragments) => Signal(9, commandLineFragments);

    /// <summary>SIGTERMs the process whose command line contains every fragment, as Kubernetes does to a preempted pod.</summary>
    public static void Preempt(params string[] commandLineFragments) => Signal(15, commandLineFragments);

    /// <summary>SIGSTOPs it: alive, silent and holding its connections, as a process on a hung device or a frozen node.</summary>
    public static void Freeze(params string[] commandLineFragments) => Signal(19, commandLineFragments);

    /// <summary>SIGCONTs a frozen one: it carries on where it stopped, unaware that time has passed.</summary>
    public static void Thaw(params string[] commandLineFragments) => Signal(18, commandLineFragments);

    private static void Signal(int signal, string[] commandLineFragments)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string commandLine;
            try { commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (commandLineFragments.All(f => commandLine.Contains(f, StringComparison.Ordinal)))
            {
                kill(pid, signal);
                return;
            }
        }
        throw new InvalidOperationException($"no process with a command line containing {string.Join(" and ", commandLineFragments)}");
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cmm did not exit within {timeout}; output:\n{Output}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
