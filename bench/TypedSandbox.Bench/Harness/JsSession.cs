using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TypedSandbox.Testing;

namespace TypedSandbox.Bench.Harness;

/// <summary>
/// A long-running <c>node bench.mjs serve</c>: Modal's JS SDK timing one operation per request, so its iterations can
/// alternate with the peers' iterations and drift on a busy host falls on both sides alike. Closing it terminates the
/// sandbox it keeps; the node process is killed if it does not exit in time.
/// </summary>
internal sealed class JsSession : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(2);

    private readonly Process _node;
    private readonly StringBuilder _stderr = new();

    private JsSession(Process node)
    {
        _node = node;
        _node.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _node.BeginErrorReadLine();
    }

    public static JsSession Start(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("node", ["bench.mjs", "serve"])
        {
            WorkingDirectory = Path.Combine(RepositoryPaths.Root, "bench", "js"),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new JsSession(Process.Start(start) ?? throw new InvalidOperationException("Could not start node."));
    }

    /// <summary>Runs one timed operation; returns its reply (times in ms: <c>total</c>, and parts where it has them).</summary>
    public Task<JsonElement> CallAsync(string op, CancellationToken cancellationToken) => CallAsync(op, blockNetwork: false, cancellationToken);

    /// <summary>Runs one timed operation; <paramref name="blockNetwork"/> creates sandboxes without network access.</summary>
    public async Task<JsonElement> CallAsync(string op, bool blockNetwork, CancellationToken cancellationToken)
    {
        await _node.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { op, blockNetwork }).AsMemory(), cancellationToken);
        await _node.StandardInput.FlushAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ReplyTimeout);
        string? line;
        try
        {
            // WaitAsync, because a read from a pipe does not observe cancellation on Linux.
            line = await _node.StandardOutput.ReadLineAsync(CancellationToken.None).AsTask().WaitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"node bench.mjs serve did not answer '{op}' within {ReplyTimeout.TotalSeconds:0} s.");
        }

        if (line is null)
        {
            throw new InvalidOperationException($"node bench.mjs serve exited during '{op}':\n{Stderr()}");
        }

        var reply = JsonDocument.Parse(line).RootElement.Clone();
        return reply.GetProperty("ok").GetBoolean()
            ? reply
            : throw new InvalidOperationException($"JS SDK '{op}' failed: {reply.GetProperty("error").GetString()}");
    }

    /// <summary>Times one operation: <paramref name="op"/>'s <c>total</c> as a duration.</summary>
    public async Task<TimeSpan> TimeAsync(string op, CancellationToken cancellationToken) =>
        TimeSpan.FromMilliseconds((await CallAsync(op, cancellationToken)).GetProperty("total").GetDouble());

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_node.HasExited)
            {
                await _node.StandardInput.WriteLineAsync("""{"op":"close"}""");
                _node.StandardInput.Close();
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _node.WaitForExitAsync(limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            _node.Kill(entireProcessTree: true);
            await _node.WaitForExitAsync();
        }
        finally
        {
            _node.Dispose();
        }
    }

    private string Stderr()
    {
        lock (_stderr)
        {
            return _stderr.ToString().Trim();
        }
    }
}
