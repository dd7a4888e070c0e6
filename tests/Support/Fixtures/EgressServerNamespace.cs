using System.Diagnostics;

namespace TypedSandbox.Testing;

/// <summary>
/// Servers for the egress proxy's tests in a network namespace the test makes (joined to the host by a veth pair,
/// never beyond this machine): busybox httpd on port 80 (a file, and a CGI script that answers with the request's
/// X-Token header) and openssl's s_server on 443 with a self-signed certificate, serving the same file over TLS.
/// </summary>
public sealed class EgressServerNamespace : IAsyncLifetime
{
    /// <summary>What both servers answer for <c>/hello.txt</c>.</summary>
    public const string Hello = "hello through the egress proxy\n";

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly int _subnet = Random.Shared.Next(1, 250);
    private readonly List<Process> _servers = [];
    private string? _root;
    private bool _namespaceMade;

    /// <summary>The servers' address.</summary>
    public string Address => $"10.233.{_subnet}.2";

    /// <summary>Why the servers cannot run here (not root, no busybox or openssl), or null.</summary>
    public string? SkipReason { get; private set; }

    private string Namespace => "tsbe-" + _suffix;

    private string HostSide => "tsbeh" + _suffix;

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root" || !File.Exists("/bin/busybox") || !File.Exists("/usr/bin/openssl"))
        {
            SkipReason = "needs root, /bin/busybox and /usr/bin/openssl";
            return;
        }

        _root = Directory.CreateTempSubdirectory("tsbe-www-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_root, "hello.txt"), Hello);
        Directory.CreateDirectory(Path.Combine(_root, "cgi-bin"));
        var script = Path.Combine(_root, "cgi-bin", "token");
        await File.WriteAllTextAsync(script, "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"token=$HTTP_X_TOKEN\"\n");
        await RunAsync("chmod", "700", script);
        await RunAsync("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=egress.test",
            "-keyout", Path.Combine(_root, "key.pem"), "-out", Path.Combine(_root, "cert.pem"));

        await RunAsync("ip", "netns", "add", Namespace);
        _namespaceMade = true;
        await RunAsync("ip", "link", "add", HostSide, "type", "veth", "peer", "name", "eth0", "netns", Namespace);
        await RunAsync("ip", "addr", "add", $"10.233.{_subnet}.1/29", "dev", HostSide);
        await RunAsync("ip", "link", "set", HostSide, "up");
        await RunAsync("ip", "-n", Namespace, "addr", "add", $"{Address}/29", "dev", "eth0");
        await RunAsync("ip", "-n", Namespace, "link", "set", "eth0", "up");
        await RunAsync("ip", "-n", Namespace, "link", "set", "lo", "up");

        Serve("/bin/busybox", "httpd", "-f", "-p", "80", "-h", _root);
        Serve("/usr/bin/openssl", "s_server", "-quiet", "-accept", "443", "-cert", "cert.pem", "-key", "key.pem", "-WWW");
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var listening = await ExternalProcess.RunAsync("ip", ["netns", "exec", Namespace, "/bin/busybox", "netstat", "-ltn"], "/", null, TimeSpan.FromSeconds(10));
            if (listening.Stdout.Contains(":80 ", StringComparison.Ordinal) && listening.Stdout.Contains(":443 ", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("The egress test servers did not start listening.");
    }

    private void Serve(string file, params string[] args)
    {
        var start = new ProcessStartInfo("ip", ["netns", "exec", Namespace, file, .. args])
        {
            WorkingDirectory = _root!,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        _servers.Add(server);
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            server.Dispose();
        }

        if (_namespaceMade)
        {
            await ExternalProcess.RunAsync("ip", ["link", "del", HostSide], "/", null, TimeSpan.FromSeconds(10));
            await ExternalProcess.RunAsync("ip", ["netns", "del", Namespace], "/", null, TimeSpan.FromSeconds(10));
        }

        if (_root is not null)
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var outcome = await ExternalProcess.RunAsync(file, args, "/", null, TimeSpan.FromSeconds(30));
        if (outcome.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {outcome.Stderr}");
        }
    }
}
