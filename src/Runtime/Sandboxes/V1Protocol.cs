using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Transport;

namespace TypedSandbox.Sandboxes;

/// <summary>The V1 family: <c>SandboxCreate</c> and a wait for scheduling, control-plane <c>Sandbox*</c> calls keyed by
/// sandbox id, the router reached through the task, the entrypoint's output read from the control plane's log stream.</summary>
internal sealed class V1Protocol(SandboxConnection connection) : ControlPlaneSandboxProtocol(connection, SandboxCalls.V1)
{
    private static readonly TimeSpan SchedulingPollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan SchedulingLimit = TimeSpan.FromMinutes(21);

    /// <summary>Creates a sandbox with <c>SandboxCreate</c> and waits until it is scheduled; in-code secrets and env are
    /// stored as ephemeral secrets first, since the V1 definition only takes secret ids.</summary>
    public static async Task<Sandbox> CreateAsync(SandboxClient client, App app, string imageId, SandboxCreateOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        var secretIds = new List<string>();
        foreach (var secret in options.Secrets ?? [])
        {
            secretIds.Add(secret.SecretId ?? await client.Secrets.HydrateAsync(secret.Values!, app.Environment, cancellationToken).ConfigureAwait(false));
        }
        if (options.Env is { Count: > 0 } env)
        {
            secretIds.Add(await client.Secrets.HydrateAsync(env, app.Environment, cancellationToken).ConfigureAwait(false));
        }
        var request = new SandboxCreateRequest { AppId = app.AppId, Definition = SandboxRequestBuilder.Build(imageId, options, secretIds) };
        request.Tags.Add(SandboxRequestBuilder.Tags(options.Tags));
        var response = await client.ControlPlane.CallAsync(
            "SandboxCreate", static (c, r, o) => c.SandboxCreateAsync(r, o), request, cancellationToken).ConfigureAwait(false);

        var sandbox = new Sandbox(client, response.SandboxId, null, null, null);
        try
        {
            await sandbox.Connection.WaitForTaskAsync(SchedulingLimit, SchedulingPollInterval, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not SandboxTerminatedException)
        {
            try
            {
                await sandbox.TerminateAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (SandboxException terminateError)
            {
                Log.TerminateAfterFailedStartFailed(logger, terminateError, sandbox.SandboxId);
            }
            await sandbox.Connection.DisposeRouterAsync().ConfigureAwait(false);
            if (e is SandboxTimeoutException)
            {
                throw new ResourceExhaustedException("Insufficient capacity to create sandbox.", e);
            }
            throw;
        }
        return sandbox;
    }

    public override async Task<RouterAccess> FetchRouterAccessAsync(CancellationToken cancellationToken)
    {
        var taskId = await Connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
        var response = await SandboxResponses.RouterAccessAsync(ControlPlane.CallAsync("TaskGetCommandRouterAccess",
            static (c, r, o) => c.TaskGetCommandRouterAccessAsync(r, o),
            new TaskGetCommandRouterAccessRequest { TaskId = taskId }, cancellationToken)).ConfigureAwait(false);
        return new RouterAccess(response.Url, response.Jwt);
    }

    public override IByteSource OpenEntrypointOutput(bool stderr, string description)
    {
        var fd = stderr ? FileDescriptor.Stderr : FileDescriptor.Stdout;
        // The server ends each log call after a while; only an EOF batch ends the output.
        return new ResumableByteSource((position, ct) => ReadLogsAsync(fd, position.Cursor ?? "0-0", ct),
            "0-0", RetryPolicy.CommandRouter, null, endWhenStreamCompletes: false, description, Connection.Client.Time, Connection.Logger);
    }

    public override IByteSink OpenEntrypointInput() => new EntrypointStdin(Connection);

    private async IAsyncEnumerable<StreamChunk> ReadLogsAsync(FileDescriptor fd, string lastEntryId,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new SandboxGetLogsRequest { SandboxId = Connection.SandboxId, FileDescriptor = fd, Timeout = 55, LastEntryId = lastEntryId };
        await foreach (var batch in ControlPlane.StreamAsync(static (c, r, o) => c.SandboxGetLogs(r, o), request, cancellationToken).ConfigureAwait(false))
        {
            var text = string.Concat(batch.Items.Select(i => i.Data));
            yield return new StreamChunk(Encoding.UTF8.GetBytes(text), Cursor: batch.EntryId, EndOfStream: batch.Eof);
        }
    }

    /// <summary>V1 entrypoint stdin: numbered writes on the control plane.</summary>
    private sealed class EntrypointStdin(SandboxConnection connection) : IByteSink
    {
        private uint _index;

        public async Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
        {
            var request = new SandboxStdinWriteRequest { SandboxId = connection.SandboxId, Index = _index + 1, Eof = endOfInput, Input = ByteString.CopyFrom(data.Span) };
            await connection.Client.ControlPlane.CallAsync("SandboxStdinWrite", static (c, r, o) => c.SandboxStdinWriteAsync(r, o), request,
                cancellationToken).ConfigureAwait(false);
            _index++;
        }
    }
}
