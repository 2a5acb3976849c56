namespace CommerceMM.Worker.Spec;

/// <summary>"Did you mean": the known name nearest a mistyped one (spec keys, command-line options).</summary>
public static class NearestName
{
    /// <returns>
    /// the candidate the fewest single-character edits from <paramref name="typed"/>, when at most <paramref name="maxEdits"/>;
    /// failing that, the one candidate that begins the typed name or that the typed name begins (a known name with a word
    /// added or left off, too many edits away: checkpoint.every_steps for checkpoint.every); otherwise null
    /// </returns>
    public static string? Find(string typed, IEnumerable<string> candidates, int maxEdits)
    {
        var names = candidates.ToList();
        if (names.Select(c => (Name: c, Edits: Distance(c, typed))).Where(c => c.Edits <= maxEdits).OrderBy(c => c.Edits).FirstOrDefault() is { Name: { } near })
        {
            return near;
        }

        var overlapping = names.Where(c => c.Length > 0 && (typed.StartsWith(c, StringComparison.Ordinal) || c.StartsWith(typed, StringComparison.Ordinal))).Take(2).ToList();
        return typed.Length > 0 && overlapping.Count == 1 ? overlapping[0] : null;
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
