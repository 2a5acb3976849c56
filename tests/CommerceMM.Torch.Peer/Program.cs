using CommerceMM.Torch;
using CommerceMM.Torch.Distributed;
using CommerceMM.Torch.Peer;
using CommerceMM.Torch.Serialization;

// Usage: Peer <scenario> <storePort> <rank> <world> <outFile>
// Joins a Gloo group through the test's TCPStore, runs one scenario, writes its results as safetensors.
if (args.Length != 5)
{
    Console.Error.WriteLine("usage: CommerceMM.Torch.Peer <scenario> <storePort> <rank> <world> <outFile>");
    return 2;
}
string scenario = args[0];
int port = int.Parse(args[1]), rank = int.Parse(args[2]), world = int.Parse(args[3]);
string outFile = args[4];
Torch.NumThreads = 1; // N processes share 2 cores

var timeout = TimeSpan.FromSeconds(30);
using var store = TcpStore.Connect("127.0.0.1", port, timeout);
using var scoped = store.WithPrefix(scenario);
using var group = ProcessGroup.CreateGloo(scoped, rank, world, timeout);

var results = scenario switch
{
    "collectives" => Scenarios.Collectives(group),
    "infonce" => Scenarios.InfoNce(group),
    "train" => Scenarios.Train(group),
    "dead-peer" => Scenarios.DeadPeer(group),
    _ => throw new ArgumentException($"unknown scenario '{scenario}'"),
};
SafeTensors.Write(outFile, results);
return 0;
