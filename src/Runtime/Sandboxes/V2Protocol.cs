using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Transport;

namespace TypedSandbox.Sandboxes;

/// <summary>The V2 family: <c>SandboxCreateV2</c>, the control plane's <c>*V2</c> calls keyed by sandbox id, router
/// access asked for by sandbox id, the entrypoint's stdio read and written through the command router by offset.</summary>
internal sealed class V2Protocol(SandboxConnection connection) : ISandboxProtocol
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

    private ControlPlane ControlPlane => connection.Client.ControlPlane;

    public Task TerminateAsync(CancellationToken cancellationToken) =>
        ControlPlane.CallAsync("SandboxTerminateV2", static (c, r, o) => c.SandboxTerminateV2Async(r, o),
            new SandboxTerminateRequest { SandboxId = connection.SandboxId }, cancellationToken, notFoundMessage: connection.NotFoundMessage);

    public Task SetTagsAsync(IEnumerable<SandboxTag> tags, CancellationToken cancellationToken)
    {
        var request = new SandboxTagsSetRequest { SandboxId = connection.SandboxId };
        request.Tags.Add(tags);
        return ControlPlane.CallAsync("SandboxTagsSetV2", static (c, r, o) => c.SandboxTagsSetV2Async(r, o), request, cancellationToken,
            notFoundMessage: connection.NotFoundMessage);
    }

    public async Task<IReadOnlyList<SandboxTag>> GetTagsAsync(CancellationToken cancellationToken) =>
        (await ControlPlane.CallAsync("SandboxTagsGetV2", static (c, r, o) => c.SandboxTagsGetV2Async(r, o),
            new SandboxTagsGetRequest { SandboxId = connection.SandboxId }, cancellationToken,
            notFoundMessage: connection.NotFoundMessage).ConfigureAwait(false)).Tags;

    public Task<SandboxGetTunnelsResponse> GetTunnelsAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        ControlPlane.CallAsync("SandboxGetTunnelsV2", static (c, r, o) => c.SandboxGetTunnelsV2Async(r, o),
            new SandboxGetTunnelsRequest { SandboxId = connection.SandboxId, Timeout = (float)timeout.TotalSeconds }, cancellationToken,
            notFoundMessage: connection.NotFoundMessage);

    public async Task<GenericResult?> WaitAsync(TimeSpan longPoll, CancellationToken cancellationToken) =>
        SandboxResponses.Finished(await ControlPlane.CallAsync("SandboxWaitV2", static (c, r, o) => c.SandboxWaitV2Async(r, o),
            new SandboxWaitRequest { SandboxId = connection.SandboxId, Timeout = (float)longPoll.TotalSeconds }, cancellationToken,
            SandboxResponses.WaitAttemptTimeout(longPoll), connection.NotFoundMessage).ConfigureAwait(false));

    public Task<SandboxGetTaskIdResponse> GetTaskIdAsync(CancellationToken cancellationToken) =>
        ControlPlane.CallAsync("SandboxGetTaskIdV2", static (c, r, o) => c.SandboxGetTaskIdV2Async(r, o),
            new SandboxGetTaskIdRequest { SandboxId = connection.SandboxId }, cancellationToken, notFoundMessage: connection.NotFoundMessage);

    public async Task<RouterAccess> FetchRouterAccessAsync(CancellationToken cancellationToken)
    {
        var response = await SandboxResponses.RouterAccessAsync(ControlPlane.CallAsync("SandboxGetCommandRouterAccess",
            static (c, r, o) => c.SandboxGetCommandRouterAccessAsync(r, o),
            new SandboxGetCommandRouterAccessRequest { SandboxId = connection.SandboxId }, cancellationToken,
            notFoundMessage: connection.NotFoundMessage)).ConfigureAwait(false);
        return new RouterAccess(response.Url, response.Jwt);
    }

    public IByteSource OpenEntrypointOutput(bool stderr, string description)
    {
        var fd = stderr ? SandboxStdioFileDescriptor.Stderr : SandboxStdioFileDescriptor.Stdout;
        return new ResumableByteSource((position, ct) => ReadStdioAsync(fd, position.Offset, ct),
            null, RetryPolicy.CommandRouter, ct => connection.Router.RenewAccessAsync(ct), endWhenStreamCompletes: true, description,
            connection.Client.Time, connection.Logger);
    }

    public IByteSink OpenEntrypointInput() => new EntrypointStdin(connection);

    private async IAsyncEnumerable<StreamChunk> ReadStdioAsync(SandboxStdioFileDescriptor fd, long offset,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var taskId = await connection.GetTaskIdAsync(cancellationToken).ConfigureAwait(false);
        var request = new SandboxStdioReadV2Request { TaskId = taskId, Offset = (ulong)offset, FileDescriptor = fd };
        await foreach (var message in connection.Router.StreamAsync(static (c, r, o) => c.SandboxStdioReadV2(r, o), request, cancellationToken).ConfigureAwait(false))
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
