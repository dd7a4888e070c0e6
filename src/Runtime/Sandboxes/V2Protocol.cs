using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Transport;

namespace TypedSandbox.Sandboxes;

/// <summary>The V2 family: <c>SandboxCreateV2</c>, the control plane's <c>*V2</c> calls keyed by sandbox id, router
/// access asked for by sandbox id, the entrypoint's stdio read and written through the command router by offset.</summary>
internal sealed class V2Protocol(SandboxConnection connection) : ControlPlaneSandboxProtocol(connection, SandboxCalls.V2)
{
    /// <summary>Creates a sandbox with <c>SandboxCreateV2</c>: secrets and env travel inline, and the answer carries the
    /// task id, router access and tunnels when the server has them.</summary>
    public static async Task<Sandbox> CreateAsync(SandboxClient client, App app, string imageId, SandboxCreateOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        var namedSecretIds = (options.Secrets ?? []).Where(s => s.SecretId is not null).Select(s => s.SecretId!);
        var request = new SandboxCreateV2Request
        {
            AppId = app.AppId,
            Definition = SandboxRequestBuilder.Build(imageId, options, namedSecretIds),
        };
        request.Tags.Add(SandboxRequestBuilder.Tags(options.Tags));
        request.SecretSources.Add(SandboxRequestBuilder.SecretSources(options.Secrets, options.Env));

        var response = await client.ControlPlane.CallAsync(
            "SandboxCreateV2", static (c, r, o) => c.SandboxCreateV2Async(r, o), request, cancellationToken).ConfigureAwait(false);
        Log.SandboxCreated(logger, response.SandboxId, response.TaskId);

        var requestedPorts = (options.EncryptedPorts?.Count ?? 0) + (options.H2Ports?.Count ?? 0) + (options.UnencryptedPorts?.Count ?? 0);
        var tunnels = response.Tunnels.Count > 0 && response.Tunnels.Count == requestedPorts
            ? SandboxResponses.Tunnels(response.Tunnels)
            : null;
        var access = response.CommandRouterAccess is { Url.Length: > 0 } inline
            ? new RouterAccess(inline.Url, inline.Jwt)
            : null;
        return new Sandbox(client, response.SandboxId, response.TaskId.Length > 0 ? response.TaskId : null, access, tunnels);
    }

    public override async Task<RouterAccess> FetchRouterAccessAsync(CancellationToken cancellationToken)
    {
        var response = await SandboxResponses.RouterAccessAsync(ControlPlane.CallAsync("SandboxGetCommandRouterAccess",
            static (c, r, o) => c.SandboxGetCommandRouterAccessAsync(r, o),
            new SandboxGetCommandRouterAccessRequest { SandboxId = Connection.SandboxId }, cancellationToken,
            notFoundMessage: Connection.NotFoundMessage)).ConfigureAwait(false);
        return new RouterAccess(response.Url, response.Jwt);
    }

    public override IByteSource OpenEntrypointOutput(bool stderr, string description)
    {
        var fd = stderr ? SandboxStdioFileDescriptor.Stderr : SandboxStdioFileDescriptor.Stdout;
        return new ResumableByteSource((position, ct) => ReadStdioAsync(fd, position.Offset, ct),
            null, RetryPolicy.CommandRouter, ct => Connection.Router.RenewAccessAsync(ct), endWhenStreamCompletes: true, description,
            Connection.Client.Time, Connection.Logger);
    }

    public override IByteSink OpenEntrypointInput() => new EntrypointStdin(Connection);

    private async IAsyncEnumerable<StreamChunk> ReadStdioAsync(SandboxStdioFileDescriptor fd, long offset,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var taskId = await Connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
        var request = new SandboxStdioReadV2Request { TaskId = taskId, Offset = (ulong)offset, FileDescriptor = fd };
        await foreach (var message in Connection.Router.StreamAsync(static (c, r, o) => c.SandboxStdioReadV2(r, o), request, cancellationToken).ConfigureAwait(false))
        {
            yield return new StreamChunk(message.Data.Memory, (long)message.StartingOffset);
        }
    }

    /// <summary>V2 entrypoint stdin: offset-addressed writes on the command router.</summary>
    private sealed class EntrypointStdin(SandboxConnection connection) : IByteSink
    {
        private ulong _offset;

        public async Task WriteAsync(ReadOnlyMemory<byte> data, bool endOfInput, CancellationToken cancellationToken)
        {
            var taskId = await connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
            var request = new SandboxStdinWriteV2Request { TaskId = taskId, Offset = _offset, Eof = endOfInput, Data = ByteString.CopyFrom(data.Span) };
            await connection.Router.CallAsync("SandboxStdinWriteV2", static (c, r, o) => c.SandboxStdinWriteV2Async(r, o), request,
                cancellationToken).ConfigureAwait(false);
            _offset += (ulong)data.Length;
        }
    }
}
