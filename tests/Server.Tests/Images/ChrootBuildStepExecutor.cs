using System.Diagnostics;
using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>
/// Runs RUN steps for the image tests without the isolation layer: an overlayfs mount in a private mount namespace
/// (gone when the step ends) and chroot into it. Enough to exercise the build path with a busybox image; not a sandbox.
/// </summary>
internal sealed class ChrootBuildStepExecutor : IBuildStepExecutor
{
    private const string Script =
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin mount -t overlay overlay -o \"$1\" \"$2\" && root=\"$2\" && wd=\"$3\" && shift 3 && " +
        "exec /usr/sbin/chroot \"$root\" /bin/sh -c 'mkdir -p \"$0\" && cd \"$0\" && exec \"$@\"' \"$wd\" \"$@\"";

    public async Task<int> RunAsync(BuildStepRequest request, IImageBuildLog log, CancellationToken cancellationToken)
    {
        var merged = Path.Combine(Path.GetDirectoryName(request.UpperDir)!, "merged");
        Directory.CreateDirectory(merged);
        var options = $"lowerdir={string.Join(':', request.LowerDirs)},upperdir={request.UpperDir},workdir={request.OverlayWorkDir}";
        var start = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--mount", "--propagation", "private", "--", "/bin/sh", "-c", Script, "sh", options, merged, request.WorkingDir })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var arg in request.Command)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Clear();
        foreach (var entry in request.Env)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            start.Environment[entry[..eq]] = entry[(eq + 1)..];
        }

        using var process = Process.Start(start)!;
        var stdout = Pump(process.StandardOutput, log);
        var stderr = Pump(process.StandardError, log);
        await process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(stdout, stderr);
        return process.ExitCode;
    }

    private static async Task Pump(StreamReader reader, IImageBuildLog log)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            log.Write(line);
        }
    }
}
