using System.Diagnostics;
using System.Runtime.InteropServices;
using TypedSandbox.Bench.Harness;

namespace TypedSandbox.Bench.Baselines;

/// <summary>
/// A dockerd the bench starts for its own docker rows when docker's CLI finds no daemon but a daemon is installed
/// (Debian's <c>docker.io</c>). Everything it owns is in one temporary directory: data root, exec root, socket,
/// pid file and log, with containerd namespaces of its own. It makes no iptables rules and no bridge: the bench's docker
/// containers run with <c>--network=none</c>, as the raw runtime's do. Disposing stops it (SIGTERM, so it stops the
/// containerd it started and unmounts its layers; SIGKILL to its tree after 30 s) and removes the directory.
/// </summary>
internal sealed partial class PrivateDockerDaemon : IAsyncDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _directory;

    private PrivateDockerDaemon(Process process, string directory, string version)
    {
        _process = process;
        _directory = directory;
        Version = version;
    }

    /// <summary>The CLI's switch that points it at this daemon: <c>-H unix://…/docker.sock</c>.</summary>
    public string[] HostArguments => ["-H", "unix://" + Path.Combine(_directory, "docker.sock")];

    /// <summary>The daemon's version, as its <c>docker version</c> says.</summary>
    public string Version { get; }

    /// <summary>True when <c>dockerd</c> is on PATH and this process is root (dockerd needs it).</summary>
    public static bool CanStart => Environment.UserName == "root" && ContainerCli.OnPath("dockerd");

    /// <summary>Starts the daemon and waits until its API answers; throws with the end of its log when it does not.</summary>
    public static async Task<PrivateDockerDaemon> StartAsync(CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("typedsandbox-bench-dockerd-").FullName;
        var start = new ProcessStartInfo("dockerd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--data-root", Path.Combine(directory, "data"), "--exec-root", Path.Combine(directory, "exec"),
            "--host", "unix://" + Path.Combine(directory, "docker.sock"), "--pidfile", Path.Combine(directory, "dockerd.pid"),
            "--iptables=false", "--ip6tables=false", "--bridge=none",
            "--containerd-namespace", "typedsandbox-bench", "--containerd-plugins-namespace", "typedsandbox-bench-plugins",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dockerd.");
        var log = Path.Combine(directory, "dockerd.log");
        var copyLog = CopyLogAsync(process, log);
        var daemon = new PrivateDockerDaemon(process, directory, "");
        try
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (process.HasExited)
                {
                    await copyLog;
                    throw new InvalidOperationException($"dockerd exited with {process.ExitCode}: {Tail(log)}");
                }

                var version = await TimedCommand.RunAsync("docker", [.. daemon.HostArguments, "version", "--format", "{{.Server.Version}}"],
                    TimeSpan.FromSeconds(10), cancellationToken);
                if (version.ExitCode == 0)
                {
                    return new PrivateDockerDaemon(process, directory, version.StdoutText.Trim());
                }

                if (waited.Elapsed > StartPatience)
                {
                    throw new TimeoutException($"dockerd did not answer within {StartPatience.TotalSeconds:0} s: {Tail(log)}");
                }

                await Task.Delay(200, cancellationToken);
            }
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, SigTerm);
            using var patience = new CancellationTokenSource(StopPatience);
            try
            {
                await _process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"bench: could not remove dockerd's directory {_directory}: {e.Message}");
        }
    }

    private static async Task CopyLogAsync(Process process, string path)
    {
        await using var file = File.CreateText(path);
        file.AutoFlush = true;
        async Task Copy(StreamReader reader)
        {
            while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            {
                lock (file)
                {
                    file.WriteLine(line);
                }
            }
        }

        await Task.WhenAll(Copy(process.StandardOutput), Copy(process.StandardError));
    }

    private static string Tail(string log)
    {
        try
        {
            var lines = File.ReadAllLines(log);
            return string.Join(" | ", lines.TakeLast(3));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
