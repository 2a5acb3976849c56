using CommerceMM.Collectives;
using CommerceMM.Collectives.Peer;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

// Usage: Peer <scenario> <storeDirectory> <rank> <world> <outFile> [scenario arguments]
// Joins a group through a directory store, runs one scenario, writes its results as safetensors.
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: CommerceMM.Collectives.Peer <scenario> <storeDirectory> <rank> <world> <outFile> [arguments]");
    return 2;
}
string scenario = args[0];
var store = new FileRendezvousStore(args[1]);
int rank = int.Parse(args[2]), world = int.Parse(args[3]);
string outFile = args[4];
string[] extra = args[5..];
TorchRuntime.EnsureLoaded();
TorchRuntime.NumThreads = 1; // N processes share the cores

var timeout = TimeSpan.FromSeconds(30);
List<(string, Tensor)> Gloo(Func<ProcessGroup, List<(string, Tensor)>> body)
{
    using var group = ProcessGroup.Create(store, rank, world, torch.CPU, timeout);
    return body(group);
}
List<(string, Tensor)> StubNccl(Func<ProcessGroup, List<(string, Tensor)>> body)
{
    using var group = StubScenarios.CreateNccl(store, rank, world, torch.CPU, timeout);
    return body(group);
}

var results = scenario switch
{
    "collectives" => Gloo(Scenarios.Collectives),
    "reductions" => Gloo(Scenarios.Reductions),
    "async-buckets" => Gloo(Scenarios.AsyncBuckets),
    "barrier" => Gloo(Scenarios.Barrier),
    "allgather-mismatch" => Gloo(Scenarios.AllGatherMismatch),
    "infonce" => Gloo(Scenarios.InfoNce),
    "train" => Gloo(Scenarios.Train),
    "skip-vote" => Gloo(Scenarios.SkipVote),
    "dead-peer" => Gloo(Scenarios.DeadPeer),
    "stalled-peer" => Gloo(Scenarios.StalledPeer),
    "dead-peer-backward" => Gloo(Scenarios.DeadPeerInBackward),
    "allreduce-bench" => Gloo(g => Bench.AllReduce(g, long.Parse(extra[0]), int.Parse(extra[1]))),
    "nccl-stub" => StubNccl(StubScenarios.Marshalling),
    "nccl-stub-hang" => StubNccl(StubScenarios.Hang),
    "nccl-create-fails" => StubScenarios.CreateFails(store, rank, world, new Device(extra[0])),
    "gpu-check" => GpuScenarios.Check(store, new Device(extra[0])),
    "cuda-memory" => StubScenarios.Memory(int.Parse(extra[0])),
    "cuda-copy" => StubScenarios.CopyToHost(),
    "cuda-capability" => StubScenarios.ComputeCapability(),
    _ => throw new ArgumentException($"unknown scenario '{scenario}'"),
};
SafeTensors.Write(outFile, results);
return Environment.ExitCode;
