// tools/bench/safetensors/run: our SafeTensors (src/CommerceMM.Tensors) against TorchSharp.PyBridge 1.4.4's, on a real
// model's weights, in one process: each reads the other's file, then interleaved rounds time the three things a
// checkpoint does (snapshot into a reused buffer, write a file to disk, read the file back into tensors), and both readers
// meet a truncated file. Medians and the ratio ours / PyBridge's (below 1: ours is faster).
using System.Diagnostics;
using System.Globalization;
using CommerceMM.Model;
using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using PyBridge = TorchSharp.PyBridge.Safetensors;

string preset = Option("--preset", "base");
int rounds = int.Parse(Option("--rounds", "5"), CultureInfo.InvariantCulture);
string work = Directory.CreateTempSubdirectory("cmm-bench-safetensors-").FullName;
try
{
    TorchRuntime.EnsureLoaded();
    using var model = new CommerceMMModel(CommerceMMConfig.Preset(preset), seed: 1);
    var state = model.StateDict();
    var byName = state.ToDictionary(e => e.Name, e => e.Tensor);
    long bytes = state.Sum(e => e.Tensor.NumberOfElements * e.Tensor.ElementSize);
    Console.WriteLine($"safetensors bench: the {preset} preset's weights, {state.Count} tensors, {bytes / 1048576.0:F1} MiB; {rounds} interleaved rounds, medians");

    // Each writes its file; each reads the other's.
    string ours = Path.Combine(work, "ours.safetensors"), theirs = Path.Combine(work, "pybridge.safetensors");
    SafeTensors.Write(ours, state);
    PyBridge.SaveStateDict(theirs, byName);
    using (var read = SafeTensors.Read(theirs)) Console.WriteLine($"ours reads PyBridge's file: {Compare(read.Tensors.ToDictionary(t => t.Name, t => t.Tensor))}");
    Console.WriteLine($"PyBridge reads our file: {Compare(PyBridge.LoadStateDict(ours), dispose: true)}");

    byte[] ourBytes = SafeTensors.ToBytes(state);
    byte[] theirBytes = File.ReadAllBytes(theirs);
    var pool = new HostBufferPool();
    using var snapshot = new MemoryStream(theirBytes.Length);
    var timings = new Dictionary<string, (List<double> Ours, List<double> Theirs)>
    {
        ["snapshot into memory"] = ([], []),
        ["write a file, fsync'd"] = ([], []),
        ["read bytes into tensors"] = ([], []),
    };
    for (int round = 0; round < rounds; round++)
    {
        // Into a buffer reused across saves, as a worker's checkpoints are (HostBufferPool; a MemoryStream rewound).
        Time("snapshot into memory",
            () => pool.Return(SafeTensors.ToBytes(state, buffers: pool)),
            () =>
            {
                snapshot.SetLength(0);
                PyBridge.SaveStateDict(snapshot, byName, leaveOpen: true);
            });
        Time("write a file, fsync'd",
            () => SafeTensors.Write(ours, state),
            () =>
            {
                File.Delete(theirs); // PyBridge opens with File.OpenWrite, which does not truncate
                PyBridge.SaveStateDict(theirs, byName);
                using var written = new FileStream(theirs, FileMode.Open, FileAccess.ReadWrite);
                written.Flush(flushToDisk: true);
            });
        Time("read bytes into tensors",
            () => SafeTensors.Read(new MemoryStream(ourBytes, writable: false), "ours").Dispose(),
            () =>
            {
                foreach (var tensor in PyBridge.LoadStateDict(new MemoryStream(theirBytes, writable: false)).Values) tensor.Dispose();
            });
    }

    Console.WriteLine();
    Console.WriteLine($"{"",-26} {"ours ms",10} {"PyBridge ms",12} {"ratio",8}");
    foreach (var (what, (o, t)) in timings)
        Console.WriteLine($"{what,-26} {Median(o),10:F1} {Median(t),12:F1} {Median(o) / Median(t),7:F2}x   ({bytes / 1048576.0 / (Median(o) / 1000):F0} against {bytes / 1048576.0 / (Median(t) / 1000):F0} MiB/s)");
    Console.WriteLine("ratio = ours / PyBridge's time (below 1.00: ours is faster)");

    // A file cut short in its tensor data, as a crash mid-copy leaves it.
    string cut = Path.Combine(work, "truncated.safetensors");
    File.WriteAllBytes(cut, ourBytes.AsSpan(0, ourBytes.Length / 2).ToArray());
    Console.WriteLine();
    Console.WriteLine($"ours on a truncated file: {Outcome(() => SafeTensors.Read(cut).Dispose())}");
    Console.WriteLine($"PyBridge on a truncated file: {Outcome(() => { foreach (var t in PyBridge.LoadStateDict(cut).Values) t.Dispose(); })}");
    return 0;

    string Compare(Dictionary<string, Tensor> read, bool dispose = false)
    {
        try
        {
            if (read.Count != state.Count) return $"DIFFERENT: {read.Count} tensors, not {state.Count}";
            var differing = state.Where(e => !read.TryGetValue(e.Name, out var r) || r.dtype != e.Tensor.dtype || !r.allclose(e.Tensor, rtol: 0, atol: 0)).Select(e => e.Name).ToList();
            return differing.Count == 0 ? $"identical ({read.Count} tensors)" : $"DIFFERENT: {string.Join(", ", differing.Take(5))}";
        }
        finally
        {
            if (dispose) foreach (var t in read.Values) t.Dispose();
        }
    }

    // Who goes first alternates by round: the one after a file write meets the kernel's writeback.
    void Time(string what, Action ourWay, Action theirWay)
    {
        bool oursFirst = timings[what].Ours.Count % 2 == 0;
        if (oursFirst) timings[what].Ours.Add(Milliseconds(ourWay));
        timings[what].Theirs.Add(Milliseconds(theirWay));
        if (!oursFirst) timings[what].Ours.Add(Milliseconds(ourWay));
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Milliseconds(Action action)
{
    GC.Collect();
    long start = Stopwatch.GetTimestamp();
    action();
    return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string Outcome(Action read)
{
    try
    {
        read();
        return "read without an error";
    }
    catch (Exception e)
    {
        return $"{e.GetType().Name}: {e.Message}";
    }
}

string Option(string name, string fallback)
{
    foreach (string arg in args.Where((_, i) => i % 2 == 0))
        if (arg is not ("--preset" or "--rounds")) throw new ArgumentException($"unknown option '{arg}' (known: --preset tiny|small|base, --rounds N)");
    int at = Array.IndexOf(args, name);
    if (at < 0) return fallback;
    if (at + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
    return args[at + 1];
}
