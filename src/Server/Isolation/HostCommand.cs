using System.Diagnostics;

namespace TypedSandbox.Server.Isolation;

/// <summary>Runs a short host command (ip, the runtime's kill/delete) to completion and captures its output.</summary>
internal static class HostCommand
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public bool Succeeded => ExitCode == 0;
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, CancellationToken ct, string? stdin = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin.AsMemory(), ct).ConfigureAwait(false);
            }

            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        finally
        {
            // Process.Dispose leaves streams the caller touched open (two pipe descriptors per command, until a GC).
            process.StandardOutput.Dispose();
            process.StandardError.Dispose();
        }
    }

    public static async Task<Result> RunCheckedAsync(string file, IEnumerable<string> args, CancellationToken ct, string? stdin = null)
    {
        var list = args.ToList();
        var result = await RunAsync(file, list, ct, stdin).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new ContainerStartException($"'{file} {string.Join(' ', list)}' failed with exit code {result.ExitCode}: {result.Stderr.Trim()}");
        }

        return result;
    }
}
