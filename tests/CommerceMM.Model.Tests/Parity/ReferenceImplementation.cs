using System.Text.Json;
using CommerceMM.Tests.Shared;

namespace CommerceMM.Model.Tests.Parity;

/// <summary>
/// Runs tools/reference/commercemm.py (the independent PyTorch implementation) on a step dump under
/// Debian's PyTorch and returns its reference.json. Fails with a clear message when /usr/bin/python3
/// or its torch is missing: parity is a requirement, not an optional extra.
/// </summary>
internal static class ReferenceImplementation
{
    private const string Script = "tools/reference/commercemm.py";

    public static JsonDocument Replay(string dumpDirectory)
    {
        string output = Path.Combine(dumpDirectory, "reference.json");
        PyTorchReference.Run(Script, dumpDirectory, "--out", output);
        return JsonDocument.Parse(File.ReadAllText(output));
    }
}
