using System.Text.Json.Nodes;
using TypedSandbox.Server.Processes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The sandboxes' seccomp filter as a BPF program, compiled once per engine. Given the profile in config.json, crun
/// compiles it with libseccomp on every start (~10–20 ms for this profile on a 2-vCPU host, the largest single cost of a
/// start after the runtime's own process). Given crun's <c>run.oci.seccomp_bpf_data</c> annotation it loads the program
/// as is. The program is made by crun itself, so it is exactly what crun would have loaded: a probe container with the
/// same profile is created (never started: its init waits on crun's exec fifo and runs nothing), the
/// <c>seccomp.bpf</c> crun writes into its state directory is read, and the probe is deleted.
/// </summary>
internal static partial class CompiledSeccompFilter
{
    /// <summary>The annotation crun reads the base64 program from (crun ≥ 0.19; it then ignores linux.seccomp).</summary>
    public const string Annotation = "run.oci.seccomp_bpf_data";

    private const string ProbeExecutable = "probe";

    /// <summary>
    /// Compiles <paramref name="profile"/> with crun and returns the program in base64; null when crun could not (the
    /// caller then passes the profile itself, as before: slower, equally strict).
    /// </summary>
    public static async Task<string?> CompileAsync(string runtimeBinary, string runtimeRoot, string bundlesDirectory, string cgroupParent,
        JsonObject profile, ILogger logger, CancellationToken ct)
    {
        var id = "seccomp-probe-" + Guid.NewGuid().ToString("N")[..12];
        // Under bundles/, so that the leftovers sweep of a later start removes it if this engine dies half-way.
        var bundle = Path.Combine(bundlesDirectory, id);
        var rootfs = Path.Combine(bundle, "rootfs");
        HostProcess? create = null;
        try
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "dev"));
            // crun checks at create that the process's executable exists; it is never run.
            await File.WriteAllBytesAsync(Path.Combine(rootfs, ProbeExecutable), [], ct).ConfigureAwait(false);
            Images.NativeFileSystem.Chmod(Path.Combine(rootfs, ProbeExecutable), 0b101_000_000);
            var config = new JsonObject
            {
                ["ociVersion"] = "1.0.2",
                ["process"] = new JsonObject
                {
                    ["args"] = new JsonArray("/" + ProbeExecutable),
                    ["cwd"] = "/",
                    ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                    ["noNewPrivileges"] = true,
                },
                ["root"] = new JsonObject { ["path"] = rootfs, ["readonly"] = true },
                ["mounts"] = new JsonArray(),
                ["linux"] = new JsonObject
                {
                    ["namespaces"] = new JsonArray(
                        new JsonObject { ["type"] = "pid" }, new JsonObject { ["type"] = "mount" }, new JsonObject { ["type"] = "network" },
                        new JsonObject { ["type"] = "ipc" }, new JsonObject { ["type"] = "uts" }),
                    ["cgroupsPath"] = $"/{cgroupParent}/{id}",
                    ["seccomp"] = profile.DeepClone(),
                },
            };
            await File.WriteAllTextAsync(Path.Combine(bundle, "config.json"), config.ToJsonString(), ct).ConfigureAwait(false);
            // Not run to its end: the probe's init inherits crun's stdio and holds it open until the probe is deleted,
            // so this waits for crun's exit, not for the end of its output.
            create = HostProcesses.Start(new HostProcessStart(runtimeBinary, ["--root", runtimeRoot, "create", "--bundle", bundle, id]) { KillTree = true },
                stdoutAsStream: false);
            create.CloseStandardInput();
            using (var patience = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                patience.CancelAfter(TimeSpan.FromSeconds(30));
                try
                {
                    await create.WaitForExitAsync(patience.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    create.Kill();
                    throw;
                }
            }
            if (create.ExitCode != 0)
            {
                Log.ProbeFailed(logger, $"crun create exited with {create.ExitCode}");
                return null;
            }
            var program = await File.ReadAllBytesAsync(Path.Combine(runtimeRoot, id, "seccomp.bpf"), ct).ConfigureAwait(false);
            // A BPF program is a sequence of 8-byte instructions (struct sock_filter).
            if (program.Length == 0 || program.Length % 8 != 0)
            {
                Log.ProbeFailed(logger, $"crun wrote a {program.Length}-byte seccomp.bpf");
                return null;
            }
            Log.Compiled(logger, program.Length / 8);
            return Convert.ToBase64String(program);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            Log.ProbeFailed(logger, e.Message);
            return null;
        }
        finally
        {
            var delete = await HostCommand.RunAsync(runtimeBinary, ["--root", runtimeRoot, "delete", "--force", id], CancellationToken.None)
                .ConfigureAwait(false);
            if (!delete.Succeeded && !delete.Stderr.Contains("does not exist", StringComparison.Ordinal) && Directory.Exists(Path.Combine(runtimeRoot, id)))
            {
                IsolationLog.CleanupFailed(logger, "crun delete " + id, delete.Stderr.Trim());
            }
            // Deleting the probe closed the last copies of crun's output pipes.
            if (create is not null)
            {
                if (await Task.WhenAny(create.OutputClosed, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false) == create.OutputClosed
                    && create.Stderr.ToString().Trim() is { Length: > 0 } text)
                {
                    Log.ProbeOutput(logger, text);
                }

                await create.DisposeAsync().ConfigureAwait(false);
            }
            try
            {
                if (Directory.Exists(bundle))
                {
                    Directory.Delete(bundle, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                IsolationLog.CleanupFailed(logger, "seccomp probe bundle " + bundle, e.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1061, Level = LogLevel.Debug, Message = "Seccomp filter compiled once by crun: {Instructions} BPF instructions, passed to every start")]
        public static partial void Compiled(ILogger logger, int instructions);

        [LoggerMessage(EventId = 1063, Level = LogLevel.Debug, Message = "The seccomp probe's runtime said: {Output}")]
        public static partial void ProbeOutput(ILogger logger, string output);

        [LoggerMessage(EventId = 1062, Level = LogLevel.Warning, Message = "Compiling the seccomp filter once failed ({Error}); crun compiles it at every start instead")]
        public static partial void ProbeFailed(ILogger logger, string error);
    }
}
