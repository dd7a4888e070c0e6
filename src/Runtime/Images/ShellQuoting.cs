using System.Buffers;

namespace TypedSandbox.Images;

/// <summary>POSIX shell quoting with the same rule as Python's <c>shlex.quote</c> (what Modal's image steps use).</summary>
internal static class ShellQuoting
{
    private static readonly SearchValues<char> Safe =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-");

    /// <summary>Returns <paramref name="word"/> unchanged when the shell would read it literally, else single-quoted.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Length == 0)
        {
            return "''";
        }
        return word.AsSpan().ContainsAnyExcept(Safe) ? "'" + word.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'" : word;
    }

    /// <summary>Quotes each word and joins them with spaces.</summary>
    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));
}
