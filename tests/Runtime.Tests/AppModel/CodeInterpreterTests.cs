using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using TypedSandbox.AI;
using TypedSandbox.Runtime.Tests.Engine;

namespace TypedSandbox.Runtime.Tests.AppModel;

/// <summary>
/// The run_code tool against the real engine, invoked as FunctionInvokingChatClient invokes it: arguments parsed from
/// the JSON a model sends (values are JsonElements), the result a JSON object.
/// </summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class CodeInterpreterTests(EngineFixture fixture)
{
    private CodeInterpreterOptions Busybox(string tag) => new()
    {
        AppName = fixture.App.Name,
        Image = "busybox:latest",
        Tags = new Dictionary<string, string> { ["test"] = tag },
    };

    [Fact]
    public void The_function_is_run_code_with_a_schema_a_model_can_follow()
    {
        var function = SandboxTools.CreateCodeInterpreter(fixture.Client);

        Assert.Equal("run_code", function.Name);
        Assert.Contains("without network access", function.Description, StringComparison.Ordinal);
        var schema = function.JsonSchema;
        Assert.Equal(["python", "sh"], schema.GetProperty("properties").GetProperty("language").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["language", "code"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Shell_code_returns_exit_code_stdout_stderr_and_the_files_it_wrote_and_its_sandbox_is_gone_after_the_call()
    {
        var tag = Guid.NewGuid().ToString("N");
        await using var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(tag));

        var result = await InvokeAsModelAsync(function, """
            {"language": "sh", "code": "echo hello; echo oops >&2; printf data > out.txt; mkdir -p sub; printf 12345 > sub/n.txt; exit 3"}
            """);

        Assert.Equal(new CodeRunResult(3, "hello\n", "oops\n", false, result.FilesWritten, 0, null), result);
        Assert.Equal([new WrittenFile("out.txt", 4), new WrittenFile("sub/n.txt", 5)], result.FilesWritten);
        Assert.Empty(await RunningAsync(tag));
    }

    [Fact]
    public async Task The_network_is_blocked_by_default_and_only_when_asked()
    {
        const string Interfaces = """{"language": "sh", "code": "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"}""";
        await using var blocked = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(Guid.NewGuid().ToString("N")));
        await using var open = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(Guid.NewGuid().ToString("N")) with { BlockNetwork = false });

        var withoutNetwork = await InvokeAsModelAsync(blocked, Interfaces);
        var withNetwork = await InvokeAsModelAsync(open, Interfaces);

        Assert.Equal(["lo"], Lines(withoutNetwork.Stdout));
        Assert.Contains(Lines(withNetwork.Stdout), name => name != "lo");
    }

    [Fact]
    public async Task A_run_past_its_timeout_is_killed_and_says_so_with_its_output_so_far()
    {
        await using var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(Guid.NewGuid().ToString("N")) with { Timeout = TimeSpan.FromSeconds(2) });

        var result = await InvokeAsModelAsync(function, """{"language": "sh", "code": "echo started; sleep 60; echo never"}""");

        Assert.True(result.TimedOut);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("started\n", result.Stdout);
    }

    [Fact]
    public async Task Long_output_keeps_its_head_and_its_tail_within_the_cap()
    {
        await using var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(Guid.NewGuid().ToString("N")) with { MaxOutputBytes = 1000 });

        var result = await InvokeAsModelAsync(function, """{"language": "sh", "code": "seq 1 100000"}""");

        var full = string.Concat(Enumerable.Range(1, 100000).Select(i => i + "\n"));
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith(full[..500], result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith(full[^500..], result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"[... {Encoding.ASCII.GetByteCount(full) - 1000} bytes omitted ...]", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conversation_keeps_one_sandbox_with_the_uploaded_files_until_the_function_is_disposed()
    {
        var tag = Guid.NewGuid().ToString("N");
        var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(tag) with
        {
            Lifetime = CodeInterpreterSandboxLifetime.PerConversation,
            Files = new Dictionary<string, ReadOnlyMemory<byte>> { ["data/input.txt"] = Encoding.UTF8.GetBytes("41") },
        });
        CodeRunResult first, second;
        int runningDuring;
        try
        {
            first = await InvokeAsModelAsync(function, """{"language": "sh", "code": "cat data/input.txt; echo; echo 42 > answer.txt"}""");
            second = await InvokeAsModelAsync(function, """{"language": "sh", "code": "cat answer.txt"}""");
            runningDuring = (await RunningAsync(tag)).Count;
        }
        finally
        {
            await function.DisposeAsync();
        }

        Assert.Equal("41\n", first.Stdout);
        Assert.Equal([new WrittenFile("answer.txt", 3)], first.FilesWritten);
        Assert.Equal("42\n", second.Stdout);
        Assert.Empty(second.FilesWritten);
        Assert.Equal(1, runningDuring);
        Assert.Empty(await RunningAsync(tag));
    }

    [Fact]
    public async Task When_the_conversation_sandbox_ends_the_model_is_told_and_the_next_call_gets_a_new_one()
    {
        var tag = Guid.NewGuid().ToString("N");
        await using var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(tag) with { Lifetime = CodeInterpreterSandboxLifetime.PerConversation });
        await InvokeAsModelAsync(function, """{"language": "sh", "code": "echo kept > state.txt"}""");
        var first = Assert.Single(await RunningAsync(tag));
        await first.TerminateAsync();
        await first.WaitAsync();

        var lost = await InvokeAsModelAsync(function, """{"language": "sh", "code": "cat state.txt"}""");
        var fresh = await InvokeAsModelAsync(function, """{"language": "sh", "code": "ls"}""");

        Assert.Null(lost.ExitCode);
        Assert.Equal("The sandbox of this conversation has ended and its files are gone; the next call starts a new one.", lost.Error);
        Assert.Equal(new CodeRunResult(0, "", "", false, [], 0, null), fresh with { FilesWritten = [] });
        Assert.Empty(fresh.FilesWritten);
        Assert.NotEqual(first.SandboxId, Assert.Single(await RunningAsync(tag)).SandboxId);
    }

    [Fact]
    public async Task Python_code_runs_with_python3()
    {
        await using var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(Guid.NewGuid().ToString("N")) with { Image = "python:3.13-slim" });

        var result = await InvokeAsModelAsync(function, """
            {"language": "python", "code": "import sys\nprint(sum(range(10)))\nprint('careful', file=sys.stderr)\nopen('result.txt', 'w').write('45')\n"}
            """);

        Assert.Equal(new CodeRunResult(0, "45\n", "careful\n", false, result.FilesWritten, 0, null), result);
        Assert.Equal([new WrittenFile("result.txt", 2)], result.FilesWritten);
    }

    [Fact]
    public async Task An_unknown_language_is_an_error_the_model_can_read()
    {
        await using var function = SandboxTools.CreateCodeInterpreter(fixture.Client, Busybox(Guid.NewGuid().ToString("N")));

        var result = await InvokeAsModelAsync(function, """{"language": "ruby", "code": "puts 1"}""");

        Assert.Null(result.ExitCode);
        Assert.Equal("Unknown language 'ruby'; use \"python\" or \"sh\".", result.Error);
    }

    /// <summary>What FunctionInvokingChatClient does with a model's tool call: JSON arguments parsed into a dictionary, then InvokeAsync.</summary>
    private static async Task<CodeRunResult> InvokeAsModelAsync(AIFunction function, string argumentsJson)
    {
        var call = FunctionCallContent.CreateFromParsedArguments(argumentsJson, "call-1", function.Name,
            static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json));
        Assert.Null(call.Exception);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var output = await function.InvokeAsync(new AIFunctionArguments(call.Arguments), timeout.Token);
        var json = Assert.IsType<JsonElement>(output);
        return json.Deserialize<CodeRunResult>() ?? throw new InvalidOperationException("null result");
    }

    private async Task<List<Sandbox>> RunningAsync(string tag)
    {
        var running = new List<Sandbox>();
        await foreach (var sandbox in fixture.Client.Sandboxes.ListAsync(fixture.App.AppId, new Dictionary<string, string> { ["test"] = tag }))
        {
            running.Add(sandbox);
        }
        return running;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
