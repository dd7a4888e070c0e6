using System.Text.Json;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Isolation;
using TypedSandbox.Server.Tests.Isolation;

namespace TypedSandbox.Server.Tests.Exec;

/// <summary>Modal's filesystem helper (`/__modal/.bin/modal-sandbox-fs-tools '&lt;json&gt;'`), answered by the agent.</summary>
[Collection(SandboxTests.Name)]
public sealed class FsToolsTests(SandboxHost host) : IAsyncLifetime
{
    private const string Tool = "/__modal/.bin/modal-sandbox-fs-tools";
    private IRunningContainer _sandbox = null!;

    public async Task InitializeAsync()
    {
        if (host.SkipReason is null)
        {
            _sandbox = await host.Runtime().StartAsync(host.Spec(), CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task WriteFile_from_stdin_then_ReadFile_round_trips_binary_bytes()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        var bytes = new byte[300_000];
        Random.Shared.NextBytes(bytes);

        await using var write = await _sandbox.ExecAsync(new ProcessSpec([Tool, """{"WriteFile":{"path":"/tmp/new/dir/blob.bin"}}"""]), CancellationToken.None);
        await write.WriteStdinAsync(0, bytes, eof: true, CancellationToken.None);
        var written = await Run.CollectAsync(write);
        var read = await Run.ExecAsync(_sandbox, Tool, """{"ReadFile":{"path":"/tmp/new/dir/blob.bin"}}""");

        Assert.Equal(0, written.Exit.ExitCode);
        Assert.Equal(0, read.Exit.ExitCode);
        Assert.Equal(bytes, read.Stdout);
    }

    [SkippableTheory]
    [InlineData("""{"ReadFile":{"path":"/no/such/file"}}""", "NotFound")]
    [InlineData("""{"ReadFile":{"path":"/tmp"}}""", "IsDirectory")]
    [InlineData("""{"ListFiles":{"path":"/etc/passwd"}}""", "IsFile")]
    [InlineData("""{"MakeDirectory":{"path":"/tmp","parents":false}}""", "PathAlreadyExists")]
    [InlineData("""{"Remove":{"path":"/bin","recursive":false}}""", "DirectoryNotEmpty")]
    [InlineData("""{"Stat":{"path":"/etc/passwd/x"}}""", "NotDirectory")]
    public async Task Failures_are_reported_as_json_error_kinds(string command, string kind)
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        var result = await Run.ExecAsync(_sandbox, Tool, command);

        Assert.Equal(1, result.Exit.ExitCode);
        using var error = JsonDocument.Parse(result.Stderr);
        Assert.Equal(1, error.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(kind, error.RootElement.GetProperty("error_kind").GetString());
        Assert.False(string.IsNullOrEmpty(error.RootElement.GetProperty("message").GetString()));
    }

    [SkippableFact]
    public async Task ListFiles_and_Stat_print_file_info()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await Run.ShAsync(_sandbox, "mkdir -p /tmp/list/sub && printf abc > /tmp/list/b.txt && chmod 640 /tmp/list/b.txt && ln -s b.txt /tmp/list/a-link");

        var list = await Run.ExecAsync(_sandbox, Tool, """{"ListFiles":{"path":"/tmp/list"}}""");
        var stat = await Run.ExecAsync(_sandbox, Tool, """{"Stat":{"path":"/tmp/list/a-link"}}""");

        Assert.Equal(0, list.Exit.ExitCode);
        using var entries = JsonDocument.Parse(list.Stdout);
        var items = entries.RootElement.EnumerateArray().ToArray();
        Assert.Equal(["a-link", "b.txt", "sub"], items.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(["symlink", "file", "directory"], items.Select(e => e.GetProperty("type").GetString()));
        var file = items[1];
        Assert.Equal("/tmp/list/b.txt", file.GetProperty("path").GetString());
        Assert.Equal(3, file.GetProperty("size").GetInt64());
        Assert.Equal("0640", file.GetProperty("permissions").GetString());
        Assert.Equal(0x81A0, file.GetProperty("mode").GetInt32()); // S_IFREG | 0640
        Assert.Equal("root", file.GetProperty("owner").GetString());
        Assert.Equal("root", file.GetProperty("group").GetString());
        Assert.True(file.GetProperty("modified_time").GetDouble() > 1_600_000_000);

        using var link = JsonDocument.Parse(stat.Stdout);
        Assert.Equal("symlink", link.RootElement.GetProperty("type").GetString());
        Assert.Equal("b.txt", link.RootElement.GetProperty("symlink_target").GetString());
        Assert.Equal("a-link", link.RootElement.GetProperty("name").GetString());
    }

    [SkippableFact]
    public async Task MakeDirectory_and_Remove_change_the_sandbox_filesystem()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);

        var make = await Run.ExecAsync(_sandbox, Tool, """{"MakeDirectory":{"path":"/tmp/a/b/c","parents":true}}""");
        await Run.ShAsync(_sandbox, "touch /tmp/a/b/c/file");
        var remove = await Run.ExecAsync(_sandbox, Tool, """{"Remove":{"path":"/tmp/a","recursive":true}}""");
        var gone = await Run.ShAsync(_sandbox, "test -e /tmp/a");

        Assert.Equal(0, make.Exit.ExitCode);
        Assert.Equal(0, remove.Exit.ExitCode);
        Assert.Equal(1, gone.Exit.ExitCode);
    }

    [SkippableFact]
    public async Task Watch_reports_events_as_json_lines_and_stops_when_stdin_closes()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await Run.ShAsync(_sandbox, "mkdir -p /tmp/w/sub");
        await using var watch = await _sandbox.ExecAsync(
            new ProcessSpec([Tool, """{"Watch":{"path":"/tmp/w","recursive":true,"filter":["Create","Rename"]}}"""]), CancellationToken.None);
        // The watch is set up a few ms after the exec starts: keep creating files until one is seen.
        await using var writer = await _sandbox.ExecAsync(
            new ProcessSpec(["sh", "-c", "for i in $(seq 1 300); do touch /tmp/w/sub/f$i; sleep 0.1; done"]), CancellationToken.None);

        using var cts = new CancellationTokenSource(Run.Patience);
        var output = "";
        long offset = 0;
        while (!output.Contains('\n', StringComparison.Ordinal))
        {
            var chunk = await watch.Stdout.ReadAsync(offset, 4096, cts.Token);
            Assert.False(chunk.IsEmpty, "the watch ended early");
            offset += chunk.Length;
            output += System.Text.Encoding.UTF8.GetString(chunk.Span);
        }
        await watch.WriteStdinAsync(0, ReadOnlyMemory<byte>.Empty, eof: true, CancellationToken.None);
        var exit = await watch.Completion.WaitAsync(cts.Token);
        await writer.KillAsync(CancellationToken.None);

        using var first = JsonDocument.Parse(output.Split('\n')[0]);
        Assert.Equal("Create", first.RootElement.GetProperty("event_type").GetString());
        Assert.StartsWith("/tmp/w/sub/f", first.RootElement.GetProperty("paths")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, exit.ExitCode);
    }

    [SkippableFact]
    public async Task Watch_reports_events_and_then_ends_by_itself_after_its_timeout()
    {
        Skip.If(host.SkipReason is not null, host.SkipReason);
        await Run.ShAsync(_sandbox, "mkdir -p /tmp/t");
        // Its stdin stays open, so only its timeout ends the watch; files keep appearing while it runs.
        await using var watch = await _sandbox.ExecAsync(new ProcessSpec([Tool, """{"Watch":{"path":"/tmp/t","timeout_secs":2}}"""]), CancellationToken.None);
        await using var writer = await _sandbox.ExecAsync(
            new ProcessSpec(["sh", "-c", "for i in $(seq 1 600); do touch /tmp/t/f$i; sleep 0.1; done"]), CancellationToken.None);

        var result = await Run.CollectAsync(watch);
        await writer.KillAsync(CancellationToken.None);

        Assert.Equal(0, result.Exit.ExitCode);
        using var first = JsonDocument.Parse(result.Out.Split('\n')[0]);
        Assert.StartsWith("/tmp/t/f", first.RootElement.GetProperty("paths")[0].GetString(), StringComparison.Ordinal);
    }
}
