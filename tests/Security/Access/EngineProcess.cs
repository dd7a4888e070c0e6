using System.Diagnostics;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>The engine executable (src/Server's program) started as a child process, stopped with SIGTERM on dispose.</summary>
internal sealed class EngineProcess : IAsyncDisposable
{
    private const string ProfileMarker = "MODAL_CONFIG_PATH=";
    private readonly Process _process;

    private EngineProcess(Process process, string configPath)
    {
        _process = process;
        ConfigPath = configPath;
    }

    /// <summary>The executable, copied beside the tests by the project reference.</summary>
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "TypedSandbox.Server");

    /// <summary>The engine's process id.</summary>
    public int Id => _process.Id;

    /// <summary>The profile path the engine printed.</summary>
    public string ConfigPath { get; }

    /// <summary>Starts the engine with <paramref name="args"/> and waits for its <c>MODAL_CONFIG_PATH=</c> line.</summary>
    public static async Task<EngineProcess> StartAsync(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Executable, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var process = Process.Start(start) ?? throw new InvalidOperationException("The engine executable did not start.");
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith(ProfileMarker, StringComparison.Ordinal))
                {
                    // Keep draining its output so it never blocks on a full pipe.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                    return new EngineProcess(process, line[ProfileMarker.Length..]);
                }
            }

            await process.WaitForExitAsync(timeout.Token);
            lock (stderr)
            {
                throw new InvalidOperationException($"The engine executable exited ({process.ExitCode}) before listening: {stderr}");
            }
        }
        catch
        {
            await StopAsync(process);
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(_process);

    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            // SIGTERM: the engine stops its sandboxes and closes its database.
            await ExternalProcess.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], "/", null, TimeSpan.FromSeconds(10));
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }
}
