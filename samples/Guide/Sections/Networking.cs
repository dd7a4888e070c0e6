using System.Net.Sockets;

namespace TypedSandbox.Samples.Guide;

/// <summary>Networking: reach a server in the sandbox through a tunnel; block the sandbox's outbound network.</summary>
internal sealed class Networking : IGuideSection
{
    public string Name => "networking";

    public string Title => "Networking and security";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);

        await using (var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions
        {
            Command = ["python", "-m", "http.server", "12345"],
            UnencryptedPorts = [12345],
        }, cancellationToken))
        {
            var tunnel = (await sb.TunnelsAsync(cancellationToken: cancellationToken))[12345];
            await output.WriteLineAsync($"tunnel for port {tunnel.ContainerPort}: {tunnel.UnencryptedHost}:{tunnel.UnencryptedPort}");
            var status = await GetWhenListeningAsync(new Uri($"http://{tunnel.UnencryptedHost}:{tunnel.UnencryptedPort}/"), cancellationToken);
            await output.WriteLineAsync($"GET / through the tunnel: {status}");
            await sb.TerminateAsync(cancellationToken);
        }

        // block_network=True: no outbound connections at all.
        await using (var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { BlockNetwork = true }, cancellationToken))
        {
            const string connect = "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), 2)\n    print('connected')\nexcept OSError:\n    print('network blocked')\n";
            await output.WriteAsync((await sb.RunAsync(["python", "-c", connect], cancellationToken: cancellationToken)).Stdout);
            await sb.TerminateAsync(cancellationToken);
        }
    }

    /// <summary>GETs <paramref name="url"/>, retrying while the server in the sandbox is still starting.</summary>
    private static async Task<int> GetWhenListeningAsync(Uri url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                return (int)response.StatusCode;
            }
            catch (HttpRequestException e) when (attempt < 200 && e.InnerException is SocketException or IOException or null)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
    }
}
