using System.Collections.Concurrent;

namespace TypedSandbox.Packaging.Tests;

/// <summary>
/// One local feed for the whole test run: each package is packed once, at one version no cache has seen, and every
/// test class restores from it. Packing is the slow part of these tests (a full MSBuild run per package); a pack per
/// class cost minutes of the suite for the same bytes. The feed's folder is removed when the test process exits.
/// </summary>
internal static class SharedFeed
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Packs = new(StringComparer.Ordinal);

    static SharedFeed()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (System.IO.Directory.Exists(Root))
            {
                System.IO.Directory.Delete(Root, recursive: true);
            }
        };
    }

    private static string Root { get; } = Path.Combine(Path.GetTempPath(), "typedsandbox-feed-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The feed's folder, for an app's nuget.config.</summary>
    public static string Directory => Root;

    /// <summary>The version every package of this run carries.</summary>
    public static string Version { get; } = PackedConsumer.NewVersion();

    /// <summary>Package TypedSandbox (src/Runtime): its .nupkg path.</summary>
    public static Task<string> RuntimeAsync() => PackAsync("Runtime", "TypedSandbox");

    /// <summary>Packs src/<paramref name="folder"/> as <paramref name="packageId"/> on first use; its .nupkg path.</summary>
    public static Task<string> PackAsync(string folder, string packageId) =>
        Packs.GetOrAdd(folder, _ => new Lazy<Task<string>>(() => PackedConsumer.PackAsync(Root, folder, packageId, Version))).Value;
}
