using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;
using TypedSandbox.Server.Secrets;

namespace TypedSandbox.Server.Api;

/// <summary>
/// <c>modal.task_command_router.TaskCommandRouter</c>: exec, exec stdio, entrypoint stdio (V2) and readiness, for the
/// task its bearer token grants. Served on the same endpoint as the control plane.
/// </summary>
internal sealed partial class CommandRouterService(SandboxManager sandboxes, SecretStore secrets, FilesystemSnapshots snapshots, Mounts.SandboxMounts mounts, SandboxReadiness readiness) : TaskCommandRouter.TaskCommandRouterBase
{
    private const int ChunkBytes = 64 * 1024;

    public override async Task<TaskExecStartResponse> TaskExecStart(TaskExecStartRequest request, ServerCallContext context)
    {
        var session = await StartedSessionAsync(request.TaskId, context).ConfigureAwait(false);
        if (string.IsNullOrEmpty(request.ExecId))
        {
            throw EngineException.Invalid("exec_id is required (a client-chosen unique id).");
        }

        // Precedence: secret ids, then secret sources, then explicit env (see EnvironmentSource).
        var environment = await EnvironmentSource.ResolveAsync(
            [
                .. request.SecretIds.Select(id => new EnvironmentSource.Secret(id)),
                .. SandboxTranslation.ToSources(request.SecretSources),
                new EnvironmentSource.Inline(request.Env),
            ],
            secrets, context.CancellationToken).ConfigureAwait(false);

        var spec = new ProcessSpec([.. request.CommandArgs])
        {
            Env = environment,
            Workdir = request.HasWorkdir ? request.Workdir : null,
            Timeout = request.HasTimeoutSecs && request.TimeoutSecs > 0 ? TimeSpan.FromSeconds(request.TimeoutSecs) : null,
            DiscardStdout = request.StdoutConfig == TaskExecStdoutConfig.Devnull,
            DiscardStderr = request.StderrConfig == TaskExecStderrConfig.Devnull,
            Terminal = TerminalTranslation.From(request.PtyInfo),
        };
        await (string.IsNullOrEmpty(request.ContainerId)
            ? sandboxes.ExecAsync(session, request.ExecId, spec, context.CancellationToken)
            : Sidecars(context).ExecAsync(session, request.ContainerId, request.ExecId, spec, context.CancellationToken)).ConfigureAwait(false);
        return new TaskExecStartResponse();
    }

    public override async Task TaskExecStdioRead(TaskExecStdioReadRequest request, IServerStreamWriter<TaskExecStdioReadResponse> responseStream, ServerCallContext context)
    {
        var process = Exec(request.TaskId, request.ExecId, context);
        var journal = request.FileDescriptor == TaskExecStdioFileDescriptor.Stderr ? process.Stderr : process.Stdout;
        var offset = (long)request.Offset;
        using var reading = journal.OpenReader();
        // One buffer per stream, reused: the response is serialized before WriteAsync returns, so no array per chunk.
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            while (true)
            {
                var count = await journal.ReadAsync(offset, buffer.AsMemory(0, ChunkBytes), context.CancellationToken).ConfigureAwait(false);
                if (count == 0)
                {
                    return; // OK status = EOF of this stream.
                }

                var data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, count));
                await responseStream.WriteAsync(new TaskExecStdioReadResponse { Data = data }, context.CancellationToken).ConfigureAwait(false);
                offset += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override async Task<TaskExecStdinWriteResponse> TaskExecStdinWrite(TaskExecStdinWriteRequest request, ServerCallContext context)
    {
        var (session, process) = SessionAndExec(request.TaskId, request.ExecId, context);
        await sandboxes.WriteExecStdinAsync(session, process, (long)request.Offset, request.Data.Memory, request.Eof, context.CancellationToken).ConfigureAwait(false);
        return new TaskExecStdinWriteResponse();
    }

    public override async Task<TaskExecStdinWriteStreamResponse> TaskExecStdinWriteStream(
        IAsyncStreamReader<TaskExecStdinWriteStreamRequest> requestStream, ServerCallContext context)
    {
        SandboxSession? session = null;
        SupervisedProcess? process = null;
        long offset = 0;
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
        {
            switch (message.PayloadCase)
            {
                case TaskExecStdinWriteStreamRequest.PayloadOneofCase.Start:
                    (session, process) = SessionAndExec(message.Start.TaskId, message.Start.ExecId, context);
                    offset = (long)message.Start.Offset;
                    break;
                case TaskExecStdinWriteStreamRequest.PayloadOneofCase.Data when process is not null:
                    await sandboxes.WriteExecStdinAsync(session!, process, offset, message.Data.Memory, eof: false, context.CancellationToken).ConfigureAwait(false);
                    offset += message.Data.Length;
                    break;
                case TaskExecStdinWriteStreamRequest.PayloadOneofCase.End when process is not null:
                    await process.WriteStdinAsync(offset, ReadOnlyMemory<byte>.Empty, eof: true, context.CancellationToken).ConfigureAwait(false);
                    return new TaskExecStdinWriteStreamResponse();
                default:
                    throw EngineException.Invalid("The stdin stream must begin with a 'start' message naming the task and exec.");
            }
        }

        return new TaskExecStdinWriteStreamResponse();
    }

    public override Task<TaskExecStdinStatusResponse> TaskExecStdinStatus(TaskExecStdinStatusRequest request, ServerCallContext context)
    {
        var process = Exec(request.TaskId, request.ExecId, context);
        return Task.FromResult(new TaskExecStdinStatusResponse { NumBytesWritten = (ulong)process.StdinBytesWritten, Closed = process.StdinClosed });
    }

    public override async Task<TaskExecWaitResponse> TaskExecWait(TaskExecWaitRequest request, ServerCallContext context)
    {
        var process = Exec(request.TaskId, request.ExecId, context);
        var exit = await process.Completion.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        return exit.Signal is { } signal && exit.ExitCode is null
            ? new TaskExecWaitResponse { Signal = signal }
            : new TaskExecWaitResponse { Code = exit.ExitCode ?? 0 };
    }

    public override Task<TaskExecPollResponse> TaskExecPoll(TaskExecPollRequest request, ServerCallContext context)
    {
        var process = Exec(request.TaskId, request.ExecId, context);
        if (!process.Completion.IsCompletedSuccessfully)
        {
            return Task.FromResult(new TaskExecPollResponse());
        }

        var exit = process.Completion.Result;
        return Task.FromResult(exit.Signal is { } signal && exit.ExitCode is null
            ? new TaskExecPollResponse { Signal = signal }
            : new TaskExecPollResponse { Code = exit.ExitCode ?? 0 });
    }

    // The sandbox as it is now: one still starting has no execs and no sidecars yet.
    private SandboxSession Session(string taskId, ServerCallContext context)
    {
        Authentication.RequireTask(context, taskId);
        return sandboxes.Catalog.GetByTaskId(taskId);
    }

    // The sandbox once its start ended (a create returns before it): for whatever needs its container.
    private Task<SandboxSession> StartedSessionAsync(string taskId, ServerCallContext context)
    {
        Authentication.RequireTask(context, taskId);
        return sandboxes.GetStartedByTaskIdAsync(taskId, context.CancellationToken);
    }

    private SupervisedProcess Exec(string taskId, string execId, ServerCallContext context) =>
        SessionAndExec(taskId, execId, context).Process;

    private (SandboxSession Session, SupervisedProcess Process) SessionAndExec(string taskId, string execId, ServerCallContext context)
    {
        var session = Session(taskId, context);
        return (session, session.Execs.Get(session.Id, execId));
    }
}
