using TypedSandbox.Testing;

namespace TypedSandbox.Conformance.Tests;

/// <summary>
/// Every script of examples/js, as the README tells users to run it (Modal's JS SDK, the engine's profile in
/// <c>MODAL_CONFIG_PATH</c>), on python:3.13-slim from the test registry (<c>IMAGE</c>, as the README allows), checked
/// for what it prints.
/// </summary>
[Collection(FeatureEngineTests.Name)]
public sealed class ExamplesTests(FeatureEngineFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string, string[]> Examples => new()
    {
        { "custom-image.mjs", ["greet: hello from /opt/tools", "a failing step fails the build:", "failed with exit code 3"] },
        { "egress.mjs", ["HTTP to an unlisted name: HTTP/1.1 403 Forbidden", "TLS to an unlisted name: connection closed:", "a malformed entry: refused, not a domain name"] },
        { "entrypoint.mjs", ["ready for input", "you said: hello", "exit code: 7"] },
        { "filesystem.mjs", ["read back: hello from the host", "listing: [ 'hello.txt' ]", "after remove: SandboxFilesystemNotFoundError", "verbose log: "] },
        { "filesystems-advanced.mjs", ["mounted: compiled artifact", "after unmount, files: 0", "scratch: ok", "sub path shows: notes.txt", "after reloadVolumes: 2 lines"] },
        { "identity.mjs", ["ready: the server listens on 8080", "with the token: 200 hello, alice", "without it: 401", "found by its new name: true"] },
        { "memory-snapshots.mjs", ["counted before the snapshot: ", "the restored sandbox counts on: ", "gVisor kernel: Linux version 4.4.0", "a sandbox from the exit snapshot reads: kept after exit"] },
        { "names-and-tags.mjs", ["second 'web-1': AlreadyExistsError", " true\n", "worker tags: { role: 'worker', env: 'dev' }", "after terminate, fromName: NotFoundError"] },
        { "oidc.mjs", ["token for: this sandbox in app typedsandbox-examples", "signature valid: true | algorithm: ES256 | audience: true", "expires in the future: true", "without the option: no token"] },
        { "objects.mjs", ["published name resolves to the same image: true", "a sandbox from the published image reads: baked in", "after images.delete, fromName: NotFoundError", "deleting a mounted volume: refused", "after volumes.delete, fromName: NotFoundError", "has its own app and volume: true true", "environments: main and the new one", "after environments.objects.delete, its volume: NotFoundError"] },
        { "outbound-headers.mjs", ["the server received: X-Example=set by the engine Authorization=Bearer guessed-in-the-sandbox", "after the live update: X-Example=None Authorization=Bearer hunter2"] },
        { "network-policy.mjs", ["opened to everything", "narrowed to 10.0.0.0/8", "closed again", "opening a blockNetwork sandbox: ClientError (it has no network to open)", "from 127.0.0.2: HTTP/1.0 200 OK", "from 127.0.0.1: reset"] },
        { "network-and-resources.mjs", ["memory limit (bytes): 268435456", "interfaces with the network blocked: [ 'lo' ]", "allow-listed sandbox created: sb-"] },
        { "pty.mjs", ["on a terminal", "window: 24 80", "TERM=xterm-256color", "after Ctrl-C: caught Ctrl-C", "exit code: 3"] },
        { "secrets-and-env.mjs", ["in /srv/app: API_KEY=sk-example DB_PASSWORD=hunter2 STAGE=dev", "in /tmp: STAGE=exec-override", "bad key: InvalidError"] },
        { "sidecars.mjs", ["sidecar file: I live in the sidecar", "main container has it: no", "sidecar reached the main server: hello from main", "sidecars: [ 'helper' ]", "after terminate: exit code 137, sandbox still running: true", "worker exited with 4"] },
        { "tunnels-snapshots-idle.mjs", ["through the tunnel: served from the sandbox", "a sandbox from the snapshot sees: served from the sandbox", "idle sandbox ended with 124"] },
        { "volumes.mjs", ["the reader sees: ", "Read-only file system", "a later sandbox sees: "] },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task The_example_runs_against_the_engine_and_prints_what_it_shows(string script, string[] expected)
    {
        var directory = Path.Combine(RepositoryPaths.Root, "examples", "js");
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "modal")), "examples/js has no node_modules: run npm install there (scripts/test.sh does)");
        // The operator's named secret the secrets example reads, made as the README's `secret set` makes it.
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, "examples-db", new Dictionary<string, string> { ["DB_PASSWORD"] = "hunter2" });
        var environment = new Dictionary<string, string>(fixture.Engine.ModalEnvironment) { ["IMAGE"] = "python:3.13-slim" };

        var outcome = await ExternalProcess.RunAsync("node", [script], directory, environment, TimeSpan.FromMinutes(3));

        output.WriteLine(outcome.Stdout);
        Assert.True(outcome.ExitCode == 0, $"{script} exited with {outcome.ExitCode}.\nstdout:\n{outcome.Stdout}\nstderr:\n{outcome.Stderr}");
        foreach (var text in expected)
        {
            Assert.Contains(text, outcome.Stdout, StringComparison.Ordinal);
        }
    }
}
