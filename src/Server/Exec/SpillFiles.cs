namespace TypedSandbox.Server.Exec;

/// <summary>Output spill files: named with one prefix and unlinked as soon as they are open, so only an engine killed in
/// that instant leaves one, and the next start removes it.</summary>
internal static class SpillFiles
{
    /// <summary>The name prefix of every spill file.</summary>
    public const string Prefix = "journal-";

    /// <summary>Deletes spill files a previous engine left in <paramref name="directory"/>; returns how many.</summary>
    public static int RemoveLeftovers(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(directory, Prefix + "*"))
        {
            File.Delete(file);
            removed++;
        }
        return removed;
    }
}
