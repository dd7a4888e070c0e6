using System.Text;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tests.Isolation;

namespace TypedSandbox.Server.Tests.Exec;

/// <summary>
/// A server that answers only after it read the request (every HTTP server): the agent's read of the connection is
/// blocked while its writer sends the request. With an open network runsc runs on the host's network stack (its
/// sockets are host sockets), where this gVisor build fails that blocked read with EAGAIN; the reply was lost.
/// </summary>
[Collection(SandboxTests.Name)]
public sealed class SandboxConnectionReplyTests(SandboxHost host)
{
    [SkippableTheory]
    [InlineData("crun")]
    [InlineData("runsc")]
    public async Task A_reply_sent_after_reading_the_request_arrives_with_an_open_network(string runtime)
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        Skip.If(HostCheck.FindExecutable(runtime) is null, $"{runtime} is not installed");
        await using var sandbox = await host.Runtime(runtime).StartAsync(host.Spec(network: NetworkPolicy.Open), CancellationToken.None);
        await using var server = await sandbox.ExecAsync(
            new ProcessSpec(["nc", "-l", "-p", "7010", "-e", "sh", "-c", "read request; sleep 1; echo reply-to-$request"]), CancellationToken.None);

        await using var connection = await ConnectWhenListeningAsync(sandbox, 7010);
        // Let the agent's reader block in read() first: the write then happens while it waits, as with a client
        // that connects and sends its request a moment later.
        await Task.Delay(300);
        await connection.SendAsync("ping\n"u8.ToArray(), CancellationToken.None);
        using var cts = new CancellationTokenSource(Run.Patience);
        var reply = await connection.Received.ReadToEndAsync(0, cts.Token);

        Assert.Equal("reply-to-ping\n", Encoding.ASCII.GetString(reply));
    }

    private static async Task<SandboxConnection> ConnectWhenListeningAsync(ContainerHandle sandbox, int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await sandbox.ConnectAsync(port, CancellationToken.None);
            }
            catch (SandboxConnectException) when (attempt < 200)
            {
                await Task.Delay(25);
            }
        }
    }
}
