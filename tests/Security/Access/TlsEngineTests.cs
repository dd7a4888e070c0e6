using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Configuration;
using TypedSandbox.Server.Hosting;
using TypedSandbox.Testing;
using TypedSandbox.Transport;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>
/// Beyond loopback the engine serves TLS only: Modal's JS SDK in another network namespace reaches it through the
/// ordinary Node.js trust setting (NODE_EXTRA_CA_CERTS), our C# client through a given CA, and neither accepts the
/// engine's certificate without trusting its CA.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class TlsEngineTests
{
    private const string ExecScript = """
        const app = await modal.apps.fromName("tls", { createIfMissing: true });
        const sb = await modal.sandboxes.create(app, modal.images.fromRegistry("busybox:latest"));
        try {
          const p = await sb.exec(["echo", "hello over tls"]);
          const out = await p.stdout.readText();
          await p.wait();
          return out;
        } finally {
          await sb.terminate();
        }
        """;

    [Fact]
    public async Task Binding_beyond_loopback_without_a_certificate_is_refused()
    {
        var options = new EngineOptions { Port = 0, BindAddress = IPAddress.Parse("10.233.0.1"), StateDirectory = TestEngine.NewStateDirectory() };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => EngineHost.StartAsync(options));

        Assert.Contains("--tls-cert", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.StateDirectory), "nothing was created");
    }

    [Fact]
    public async Task Modals_JS_SDK_in_another_network_namespace_drives_the_engine_over_TLS_and_refuses_an_untrusted_certificate()
    {
        await using var space = await ClientNamespace.CreateAsync();
        var certificates = Directory.CreateTempSubdirectory("tsb-tls-");
        try
        {
            var paths = TestCertificates.Create(certificates.FullName, space.HostAddress);
            await using var engine = await StartTlsEngineAsync(space, paths);
            Assert.Equal($"https://{space.HostAddress}:{engine.Url.Port}/", engine.Url.ToString());

            // grpc-js trusts only GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when that is set (some hosts set it globally); empty, it
            // uses Node.js's store, which NODE_EXTRA_CA_CERTS extends.
            var trusted = ModalJs.Result(await space.RunAsync(
                ["node", "--input-type=module", "-e", ModalJs.Script(ExecScript)],
                new Dictionary<string, string>(engine.ModalEnvironment) { ["NODE_EXTRA_CA_CERTS"] = paths.CaPath, ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = "" }));
            var untrusted = ModalJs.Result(await space.RunAsync(
                ["node", "--input-type=module", "-e", ModalJs.Script("""return (await modal.apps.fromName("tls", { createIfMissing: true })).appId;""")],
                new Dictionary<string, string>(engine.ModalEnvironment) { ["NODE_EXTRA_CA_CERTS"] = "", ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = "" }));

            Assert.True(trusted.GetProperty("ok").GetBoolean(), trusted.GetRawText());
            Assert.Equal("hello over tls\n", trusted.GetProperty("value").GetString());
            Assert.False(untrusted.GetProperty("ok").GetBoolean(), untrusted.GetRawText());
            Assert.Contains("certificate", untrusted.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            certificates.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Beyond_loopback_a_trusted_TLS_caller_without_the_engines_token_pair_is_unauthenticated()
    {
        await using var space = await ClientNamespace.CreateAsync();
        var certificates = Directory.CreateTempSubdirectory("tsb-tls-");
        try
        {
            var paths = TestCertificates.Create(certificates.FullName, space.HostAddress);
            await using var engine = await StartTlsEngineAsync(space, paths);
            // The certificate is trusted, the address is the bound one: only the token pair is wrong.
            var environment = new Dictionary<string, string>
            {
                ["MODAL_SERVER_URL"] = engine.Url.ToString().TrimEnd('/'),
                ["MODAL_TOKEN_ID"] = "ak-madeup0000000000000000",
                ["MODAL_TOKEN_SECRET"] = "as-madeup0000000000000000",
                ["MODAL_CONFIG_PATH"] = "/nonexistent/modal.toml",
                ["NODE_EXTRA_CA_CERTS"] = paths.CaPath,
                ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = "",
            };

            var result = ModalJs.Result(await space.RunAsync(
                ["node", "--input-type=module", "-e", ModalJs.Script("""return (await modal.apps.fromName("tls-intruder", { createIfMissing: true })).appId;""")],
                environment));

            Assert.False(result.GetProperty("ok").GetBoolean(), result.GetRawText());
            Assert.Equal(16, result.GetProperty("code").GetInt32()); // UNAUTHENTICATED
        }
        finally
        {
            certificates.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_CSharp_client_drives_the_engine_over_TLS_with_a_given_CA_and_refuses_it_without()
    {
        await using var space = await ClientNamespace.CreateAsync();
        var certificates = Directory.CreateTempSubdirectory("tsb-tls-");
        try
        {
            var paths = TestCertificates.Create(certificates.FullName, space.HostAddress);
            await using var engine = await StartTlsEngineAsync(space, paths);

            await using (var client = Client(engine.ConfigPath, paths.CaPath))
            {
                var app = await client.Apps.FromNameAsync("tls", createIfMissing: true);
                await using var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest"),
                    new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(2) });
                var result = await sandbox.RunAsync(["echo", "hello over tls"]);
                Assert.Equal("hello over tls\n", result.Stdout);
            }

            await using (var untrusting = Client(engine.ConfigPath, caPath: null))
            {
                await Assert.ThrowsAnyAsync<SandboxException>(() => untrusting.Apps.FromNameAsync("tls", createIfMissing: true));
            }
        }
        finally
        {
            certificates.Delete(recursive: true);
        }
    }

    private static Task<TestEngine> StartTlsEngineAsync(ClientNamespace space, TestCertificates paths) =>
        TestEngine.StartAsync(configure: options => options with
        {
            BindAddress = space.HostAddress,
            TlsCertificatePath = paths.CertificatePath,
            TlsKeyPath = paths.KeyPath,
        });

    private static SandboxClient Client(string configPath, string? caPath)
    {
        var settings = ClientSettingsResolver.Resolve(
            new SandboxClientOptions { ConfigPath = configPath, TrustedCertificateAuthoritiesPath = caPath }, _ => null, "/nonexistent");
        return new SandboxClient(settings, NullLoggerFactory.Instance, RetryPolicy.ControlPlane with { MaxRetries = 0 }, TimeProvider.System);
    }
}
