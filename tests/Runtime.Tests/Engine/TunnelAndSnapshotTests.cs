using System.Net.Sockets;
using System.Text;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Tunnels and filesystem snapshots through the client against the real engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class TunnelAndSnapshotTests(EngineFixture fixture)
{
    [Fact]
    public async Task A_tunnel_reaches_a_server_in_the_sandbox()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Command = ["sh", "-c", "while true; do echo pong | nc -l -p 8080; done"],
            UnencryptedPorts = [8080],
        });

        var tunnels = await sandbox.TunnelsAsync();
        var tunnel = tunnels[8080];

        Assert.Equal(8080, tunnel.ContainerPort);
        Assert.NotNull(tunnel.UnencryptedHost);
        Assert.NotNull(tunnel.UnencryptedPort);
        Assert.Equal("pong\n", await ReadFromAsync(tunnel.UnencryptedHost!, tunnel.UnencryptedPort!.Value));
    }

    [Fact]
    public async Task A_sandbox_without_ports_has_no_tunnels()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();

        Assert.Empty(await sandbox.TunnelsAsync());
    }

    [Fact]
    public async Task A_filesystem_snapshot_starts_a_new_sandbox_with_the_same_files()
    {
        var marker = Guid.NewGuid().ToString("N");
        Image snapshot;
        await using (var original = await fixture.CreateSandboxAsync())
        {
            Assert.Equal(0, (await original.RunAsync(["sh", "-c", $"echo {marker} > /root/state"])).ExitCode);
            snapshot = await original.SnapshotFilesystemAsync();
        }

        Assert.NotNull(snapshot.ImageId);
        await using var restored = await fixture.Client.Sandboxes.CreateAsync(fixture.App, snapshot);
        Assert.Equal(marker + "\n", (await restored.RunAsync(["cat", "/root/state"])).Stdout);
    }

    /// <summary>Connects until the server in the sandbox listens (it starts asynchronously), then reads one reply.</summary>
    /// <summary>Reads what a server in a sandbox sends through a tunnel, retrying while it is between two connections.</summary>
    internal static async Task<string> ReadFromAsync(string host, int port)
    {
        using var give = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(host, port, give.Token);
                var stream = tcp.GetStream();
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, give.Token);
                if (buffer.Length > 0)
                {
                    return Encoding.ASCII.GetString(buffer.ToArray());
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
            catch (IOException)
            {
                // The forwarder accepted before the sandbox's server was up.
            }
            await Task.Delay(50, give.Token);
        }
    }
}
