using System.Text.RegularExpressions;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Images;

/// <summary>
/// Builds <c>debian:&lt;suite&gt;</c> / <c>debian:&lt;suite&gt;-slim</c> bases locally from Debian's packages with mmdebstrap
/// (minbase variant, as the official images), for when no registry serves them.
/// </summary>
internal sealed partial class DebianBootstrap
{
    /// <summary>Docker's default PATH, which the official Debian images set.</summary>
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly Dictionary<string, string> VersionSuites = new(StringComparer.Ordinal)
    {
        ["10"] = "buster",
        ["11"] = "bullseye",
        ["12"] = "bookworm",
        ["13"] = "trixie",
    };

    // The dpkg filters of the official -slim images: no docs (but keep copyrights), man pages, info, locales.
    private static readonly string[] SlimDpkgOptions =
    [
        "path-exclude=/usr/share/doc/*",
        "path-include=/usr/share/doc/*/copyright",
        "path-exclude=/usr/share/man/*",
        "path-exclude=/usr/share/groff/*",
        "path-exclude=/usr/share/info/*",
        "path-exclude=/usr/share/lintian/*",
        "path-exclude=/usr/share/linda/*",
        "path-exclude=/usr/share/locale/*",
    ];

    private readonly string _mmdebstrap;
    private readonly string _mirror;

    public DebianBootstrap(string mmdebstrapPath, string mirror)
    {
        _mmdebstrap = mmdebstrapPath;
        _mirror = mirror;
    }

    /// <summary>A Debian base that can be built locally.</summary>
    /// <param name="Suite">Debian suite, e.g. <c>bookworm</c>.</param>
    /// <param name="Slim">True for the <c>-slim</c> flavour.</param>
    public sealed record Target(string Suite, bool Slim)
    {
        /// <summary>The layer name in the store.</summary>
        public string LayerName => $"debian-{Suite}{(Slim ? "-slim" : "")}-minbase";

        public override string ToString() => $"debian:{Suite}{(Slim ? "-slim" : "")}";
    }

    /// <summary>Recognises <c>docker.io/library/debian:&lt;suite or version&gt;[-slim]</c>.</summary>
    public static Target? Recognise(ImageReference reference)
    {
        if (!reference.IsDockerHub || reference.Repository != "library/debian" || reference.Tag is null || reference.Digest is not null)
        {
            return null;
        }

        var match = DebianTag().Match(reference.Tag);
        if (!match.Success)
        {
            return null;
        }

        var suite = match.Groups["suite"].Value;
        suite = VersionSuites.GetValueOrDefault(suite, suite);
        return new Target(suite, match.Groups["slim"].Success);
    }

    /// <summary>The config the official images carry.</summary>
    public static ImageConfig Config { get; } = new([DefaultPath], null, ["bash"], null, null);

    /// <summary>Runs mmdebstrap into <paramref name="targetDir"/> (which must not exist), streaming its output to <paramref name="log"/>.</summary>
    public async Task BuildAsync(Target target, string targetDir, IImageBuildLog log, CancellationToken cancellationToken)
    {
        string[] slim = target.Slim ? [.. SlimDpkgOptions.Select(option => "--dpkgopt=" + option)] : [];
        var start = new HostProcessStart(_mmdebstrap, ["--variant=minbase", "--mode=root", "--format=directory", .. slim, target.Suite, targetDir, _mirror])
        {
            Environment = new Dictionary<string, string> { ["LC_ALL"] = "C.UTF-8" },
            KillTree = true,
            StderrLines = 20,
            // Its progress goes to the build log as it comes; only the last lines are kept for the error.
            StdoutLimit = 0,
            OnLine = log.Write,
        };
        log.Write($"Building {target} locally: mmdebstrap --variant=minbase {target.Suite} from {_mirror}");
        HostProcessResult result;
        try
        {
            result = await HostProcesses.RunAsync(start, cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ImageBuildFailedException($"FROM {target}", -1, [],
                $"Cannot build {target} locally: '{_mmdebstrap}' could not be started ({e.Message}); install Debian's mmdebstrap package.");
        }

        if (result.ExitCode != 0)
        {
            string[] lines = result.Stderr.Split('\n');
            throw new ImageBuildFailedException($"FROM {target}", result.ExitCode, lines,
                $"Building {target} with mmdebstrap failed (exit code {result.ExitCode}); last output: {string.Join(" | ", lines.TakeLast(3))}");
        }

        log.Write($"Built {target} locally");
    }

    [GeneratedRegex(@"^(?<suite>buster|bullseye|bookworm|trixie|forky|sid|stable|testing|unstable|oldstable|10|11|12|13)(?<slim>-slim)?$")]
    private static partial Regex DebianTag();
}
