using System.Diagnostics;
using System.Text.RegularExpressions;

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
        var start = new ProcessStartInfo(_mmdebstrap)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--variant=minbase");
        start.ArgumentList.Add("--mode=root");
        start.ArgumentList.Add("--format=directory");
        if (target.Slim)
        {
            foreach (var option in SlimDpkgOptions)
            {
                start.ArgumentList.Add("--dpkgopt=" + option);
            }
        }

        start.ArgumentList.Add(target.Suite);
        start.ArgumentList.Add(targetDir);
        start.ArgumentList.Add(_mirror);
        start.Environment["LC_ALL"] = "C.UTF-8";

        log.Write($"Building {target} locally: mmdebstrap --variant=minbase {target.Suite} from {_mirror}");
        var tail = new Queue<string>();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("mmdebstrap did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ImageBuildFailedException($"FROM {target}", -1, [],
                $"Cannot build {target} locally: '{_mmdebstrap}' could not be started ({e.Message}); install Debian's mmdebstrap package.");
        }

        using (process)
        {
            process.StandardInput.Close();
            void Forward(string? line)
            {
                if (line is null)
                {
                    return;
                }

                lock (tail)
                {
                    tail.Enqueue(line);
                    if (tail.Count > 20)
                    {
                        tail.Dequeue();
                    }
                }

                log.Write(line);
            }

            var stdout = PumpAsync(process.StandardOutput, Forward);
            var stderr = PumpAsync(process.StandardError, Forward);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            if (process.ExitCode != 0)
            {
                string[] lines;
                lock (tail)
                {
                    lines = [.. tail];
                }

                throw new ImageBuildFailedException($"FROM {target}", process.ExitCode, lines,
                    $"Building {target} with mmdebstrap failed (exit code {process.ExitCode}); last output: {string.Join(" | ", lines.TakeLast(3))}");
            }
        }

        log.Write($"Built {target} locally");
    }

    private static async Task PumpAsync(StreamReader reader, Action<string?> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            onLine(line);
        }
    }

    [GeneratedRegex(@"^(?<suite>buster|bullseye|bookworm|trixie|forky|sid|stable|testing|unstable|oldstable|10|11|12|13)(?<slim>-slim)?$")]
    private static partial Regex DebianTag();
}
