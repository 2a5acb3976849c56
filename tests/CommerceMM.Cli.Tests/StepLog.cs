namespace CommerceMM.Cli.Tests;

/// <summary>Reads the workers' per-step log lines back.</summary>
internal static class StepLog
{
    /// <summary>
    /// Rank 0's figures per step: everything between "step N" and "lr" ("t2-v2-f1: pass1 … pass2 … grad …"
    /// for CommerceMM, "loss … weights … grad …" for SCALE), by step.
    /// </summary>
    public static Dictionary<long, string> Rank0Figures(string output)
    {
        const string marker = "cmm.worker: step ";
        var steps = new Dictionary<long, string>();
        foreach (string line in output.Split('\n'))
        {
            int at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0 || !line.Contains("rank=0 ", StringComparison.Ordinal)) continue;
            string[] words = line[(at + marker.Length)..].Split(' ');
            int lr = Array.IndexOf(words, "lr");
            if (lr < 0) continue;   // "step N: skipped … bad samples" and other step-tagged lines
            steps[long.Parse(words[0])] = string.Join(' ', words[1..lr]);
        }
        return steps;
    }
}
