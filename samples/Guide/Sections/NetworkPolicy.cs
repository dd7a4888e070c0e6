namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Networking: a running sandbox's outbound network policy changes live (Modal's <c>update_network_policy</c>). Created
/// with an empty CIDR allow-list it reaches nothing; it is opened, narrowed to one CIDR and closed again while it runs.
/// A sandbox created with <c>block_network=True</c> has no network to open.
/// </summary>
internal sealed class NetworkPolicy : IGuideSection
{
    // 192.0.2.1 is a documentation address: a policy that does not allow it refuses the connection inside the sandbox.
    private const string Probe = """
        import socket
        try:
            socket.create_connection(("192.0.2.1", 80), timeout=10).close()
            print("connected")
        except ConnectionRefusedError:
            print("refused")
        except OSError as e:
            print(type(e).__name__)
        """;

    public string Name => "network-policy";

    public string Title => "Networking: live network policy";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);

        await using (var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { CidrAllowlist = [] }, cancellationToken))
        {
            await output.WriteLineAsync($"created with no egress, 192.0.2.1: {await ProbeAsync(sb, cancellationToken)}");
            await sb.UpdateNetworkPolicyAsync(["0.0.0.0/0"], cancellationToken: cancellationToken);
            await output.WriteLineAsync("opened to everything");
            await sb.UpdateNetworkPolicyAsync(["10.0.0.0/8"], cancellationToken: cancellationToken);
            await output.WriteLineAsync($"narrowed to 10.0.0.0/8, 192.0.2.1: {await ProbeAsync(sb, cancellationToken)}");
            await sb.UpdateNetworkPolicyAsync([], cancellationToken: cancellationToken);
            await output.WriteLineAsync($"closed again, 192.0.2.1: {await ProbeAsync(sb, cancellationToken)}");
            await sb.TerminateAsync(cancellationToken);
        }

        await using (var blocked = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { BlockNetwork = true }, cancellationToken))
        {
            try
            {
                await blocked.UpdateNetworkPolicyAsync(["0.0.0.0/0"], cancellationToken: cancellationToken);
                await output.WriteLineAsync("a blockNetwork sandbox was opened");
            }
            catch (ConflictException)
            {
                await output.WriteLineAsync("a blockNetwork sandbox cannot be opened: ConflictException");
            }

            await blocked.TerminateAsync(cancellationToken);
        }
    }

    private static async Task<string> ProbeAsync(Sandbox sb, CancellationToken cancellationToken) =>
        (await sb.RunAsync(["python", "-c", Probe], cancellationToken: cancellationToken)).Stdout.Trim();
}
