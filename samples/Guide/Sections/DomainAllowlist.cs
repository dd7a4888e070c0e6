namespace TypedSandbox.Samples.Guide;

/// <summary>
/// Networking: an outbound domain allow-list (Modal's <c>outbound_domain_allowlist</c>). The engine's egress proxy lets
/// plain HTTP (by its Host header) and TLS (by its SNI) reach only the listed names; it answers other names with 403
/// (HTTP) or closes the connection (TLS) before anything leaves, and a malformed entry is refused at create.
/// </summary>
internal sealed class DomainAllowlist : IGuideSection
{
    // Both requests go to a documentation address (192.0.2.1): the proxy decides by the name the client sends.
    private const string Probe = """
        import socket, ssl, sys
        kind, name = sys.argv[1], sys.argv[2]
        s = socket.create_connection(("192.0.2.1", 443 if kind == "tls" else 80), timeout=10)
        try:
            if kind == "tls":
                ssl.create_default_context().wrap_socket(s, server_hostname=name)
                print("handshake completed")
            else:
                s.sendall(f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
                print(s.recv(100).decode().split("\r\n")[0])
        except OSError:
            print("connection closed")
        """;

    public string Name => "domain-allowlist";

    public string Title => "Networking: outbound domain allow-list";

    public async Task RunAsync(SandboxClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (app, image) = await GuideSections.AppAndImageAsync(client, cancellationToken);

        await using (var sb = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { DomainAllowlist = ["*.example.com"] }, cancellationToken))
        {
            var http = await sb.RunAsync(["python", "-c", Probe, "http", "www.unlisted.org"], cancellationToken: cancellationToken);
            await output.WriteLineAsync($"HTTP to an unlisted name: {http.Stdout.Trim()}");
            var tls = await sb.RunAsync(["python", "-c", Probe, "tls", "www.unlisted.org"], cancellationToken: cancellationToken);
            await output.WriteLineAsync($"TLS to an unlisted name: {tls.Stdout.Trim()}");
            await sb.TerminateAsync(cancellationToken);
        }

        try
        {
            await using var bad = await client.Sandboxes.CreateAsync(app, image, new SandboxCreateOptions { DomainAllowlist = ["not a name"] }, cancellationToken);
            await output.WriteLineAsync("a malformed entry was accepted");
        }
        catch (InvalidArgumentException)
        {
            await output.WriteLineAsync("a malformed entry: InvalidArgumentException");
        }
    }
}
