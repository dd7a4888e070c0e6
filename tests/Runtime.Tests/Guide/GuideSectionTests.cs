using System.Text.RegularExpressions;
using TypedSandbox.Runtime.Tests.Engine;
using TypedSandbox.Samples.Guide;

namespace TypedSandbox.Runtime.Tests.Guide;

/// <summary>
/// Each section of samples/Guide (Modal's Sandboxes guide in C#) run against the in-process engine, checked against
/// what the guide says it prints. The section files are compiled into this project (see the csproj).
/// </summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed partial class GuideSectionTests(EngineFixture fixture)
{
    public static TheoryData<string> Sections => new(GuideSections.All.Select(s => s.Name));

    [Fact]
    public void Every_section_has_a_test_row_and_a_unique_name()
    {
        var names = GuideSections.All.Select(s => s.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(names, n => Assert.True(Expectations.ContainsKey(n), $"no expectation for section {n}"));
    }

    [Fact]
    public void Unknown_section_names_are_rejected_with_the_list_of_sections()
    {
        var error = Assert.Throws<ArgumentException>(() => GuideSections.Select(["no-such-section"]));
        Assert.Contains("no-such-section", error.Message, StringComparison.Ordinal);
        Assert.Contains("getting-started", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public async Task Section_prints_what_the_guide_says(string name)
    {
        var section = Assert.Single(GuideSections.Select([name]));
        using var output = new StringWriter { NewLine = "\n" };
        using var give = new CancellationTokenSource(TimeSpan.FromMinutes(5));

        await section.RunAsync(fixture.Client, output, give.Token);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Expectations[name](lines);
    }

    private static readonly Dictionary<string, Action<string[]>> Expectations = new(StringComparer.Ordinal)
    {
        ["getting-started"] = lines =>
        {
            Assert.Equal("hello", lines[0]);
            Assert.Equal(10, lines.Skip(1).Count(l => Timestamp().IsMatch(l)));
            Assert.Equal(11, lines.Length);
        },
        ["commands"] = lines => Assert.Equal(
            ["to stdout", "to stderr", "returncode: 3", "foo bar", "baz", "hello from /tmp",
             "sleep 10 with timeout=1 timed out: " + lines[^1]["sleep 10 with timeout=1 timed out: ".Length..]],
            lines),
        ["pty"] = lines => Assert.Equal(["on a terminal", "30 100", "after Ctrl-C: caught Ctrl-C, returncode 3"], lines),
        ["timeouts"] = lines => Assert.Equal(
            ["poll() while running: None", "wait() after terminate(): returncode 137", "sandbox with timeout=2 finished on its own: returncode 124"],
            lines),
        ["idle-timeout"] = lines =>
        {
            Assert.Equal("still alive after 3s of work", lines[0]);
            Assert.StartsWith("idle sandbox finished: returncode ", lines[1], StringComparison.Ordinal);
            Assert.Equal(2, lines.Length);
        },
        ["readiness"] = lines => Assert.Equal(["Sandbox is ready", "200"], lines),
        ["connect-tokens"] = lines => Assert.Equal(["user data: {\"user_id\": \"foo\"}", "without the token: 401"], lines),
        ["images"] = lines =>
        {
            Assert.StartsWith("image: im-", lines[0], StringComparison.Ordinal);
            Assert.Equal(["hello from the image", "built into the image"], lines[1..]);
        },
        ["volumes"] = lines => Assert.Equal(["hello from the first sandbox", "writing to a read-only mount: returncode 1"], lines),
        ["secrets"] = lines => Assert.Equal(["hello", "from env", "only for this command"], lines),
        ["workdir"] = lines => Assert.Equal(["/tmp", "/usr"], lines),
        ["entrypoint"] = lines => Assert.Equal(["hello from the entrypoint", "oops", "returncode: 42"], lines),
        ["named"] = lines =>
        {
            Assert.Equal(["from_name finds the same sandbox: True", "hi from my-name"], lines[..2]);
            Assert.StartsWith("AlreadyExistsError: ", lines[2], StringComparison.Ordinal);
            Assert.StartsWith("NotFoundError: ", lines[3], StringComparison.Ordinal);
            Assert.Equal(4, lines.Length);
        },
        ["tags"] = lines =>
        {
            Assert.Matches("^tags: run=[0-9a-f]{8}, tag-a=a, tag-b=b$", lines[0]);
            Assert.Equal(["running sandboxes with this run's tag: 2", "with tag-a=a: only the first sandbox", "hello from from_id"], lines[1..]);
        },
        ["files"] = lines => Assert.Equal(
            ["Hello World", "ls /tmp/my-dir: data.bin, nested", "Hello World", "after rm: " + nameof(SandboxFilesystemErrorKind.NotFound)], lines),
        ["networking"] = lines =>
        {
            Assert.Matches(@"^tunnel for port 12345: \S+:\d+$", lines[0]);
            Assert.Equal(["GET / through the tunnel: 200", "network blocked"], lines[1..]);
        },
        ["network-policy"] = lines => Assert.Equal(
            ["created with no egress, 192.0.2.1: refused", "opened to everything", "narrowed to 10.0.0.0/8, 192.0.2.1: refused",
             "closed again, 192.0.2.1: refused", "a blockNetwork sandbox cannot be opened: ConflictException"],
            lines),
        ["domain-allowlist"] = lines => Assert.Equal(
            ["HTTP to an unlisted name: HTTP/1.1 403 Forbidden", "TLS to an unlisted name: connection closed", "a malformed entry: InvalidArgumentException"],
            lines),
        ["outbound-headers"] = lines => Assert.Equal(
            ["the server received: Bearer engine-token", "after the live update: Bearer rotated-token", "with no replacements: Bearer from-the-sandbox"],
            lines),
        ["resources"] = lines =>
        {
            Assert.Equal("allocated 64 MiB", lines[0]);
            Assert.StartsWith("allocating 1 GiB under a 512 MiB limit: failed (returncode ", lines[1], StringComparison.Ordinal);
            Assert.Equal(2, lines.Length);
        },
        ["snapshots"] = lines =>
        {
            Assert.StartsWith("snapshot image: ", lines[0], StringComparison.Ordinal);
            Assert.Equal(["state from the first sandbox"], lines[1..]);
        },
        ["memory-snapshots"] = lines => Assert.Equal(["snapshot: sn-…", "the restored sandbox went on counting from where it was: True"], lines),
        ["directory-mounts"] = lines => Assert.Equal(["built once", "files after unmount: 0"], lines),
        ["sidecars"] = lines => Assert.Equal(["200", "sidecar tools", "sidecars: tools", "sidecar exit code: 137", "sandbox still running: True"], lines),
        ["objects"] = lines => Assert.Equal(
            ["same image by name: True, reads: baked in …", "after delete, by name: NotFoundException", "listed: True, own app: True",
             "deleted volume: NotFoundException", "deleted environment: NotFoundException"],
            lines),
        ["oidc"] = lines => Assert.Equal(
            ["token for this sandbox: True, app: my-app", "signature valid: True, algorithm: ES256, expires in the future: True"], lines),
    };

    [GeneratedRegex(@"^\d\d:\d\d:\d\d$")]
    private static partial Regex Timestamp();
}
