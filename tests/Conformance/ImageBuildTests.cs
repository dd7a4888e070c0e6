using System.Text.Json;
using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Custom images through Modal's JS SDK: dockerfileCommands built step by step in real build sandboxes.</summary>
[Collection(FeatureEngineTests.Name)]
public sealed class ImageBuildTests(FeatureEngineFixture fixture)
{
    [Fact]
    public async Task RUN_ENV_and_WORKDIR_steps_build_an_image_sandboxes_run_and_the_same_definition_is_the_same_image()
    {
        var result = await fixture.RunAsync("images.mjs", "build-and-use", new Dictionary<string, string> { ["TOKEN"] = "use" });

        Assert.Matches("^im-[0-9a-f]{24}$", result.GetProperty("imageId").GetString());
        Assert.Equal(result.GetProperty("imageId").GetString(), result.GetProperty("againId").GetString());
        Assert.NotEqual(result.GetProperty("imageId").GetString(), result.GetProperty("otherId").GetString());
        Assert.Equal("built-use\n", result.GetProperty("built").GetString());
        Assert.Equal("hello-use second\n", result.GetProperty("greeting").GetString());
        Assert.Equal("/srv/app\n", result.GetProperty("pwd").GetString());
        Assert.Equal("/srv/app\n", result.GetProperty("here").GetString());
        Assert.Equal("hello-use\n", result.GetProperty("greetingFile").GetString());
        // Ids are content hashes, equal whether or not anything ran: the engine's log shows the build ran once.
        Assert.Equal(1, BuildsOf(result.GetProperty("imageId").GetString()!));
        Assert.Equal(1, BuildsOf(result.GetProperty("otherId").GetString()!));
    }

    [Fact]
    public async Task A_second_request_for_a_built_definition_answers_at_once_from_the_cache()
    {
        var result = await fixture.RunAsync("images.mjs", "cache-hit", new Dictionary<string, string> { ["TOKEN"] = "cache" });

        Assert.Equal(1, result.GetProperty("firstStatus").GetInt32()); // GENERIC_STATUS_SUCCESS
        Assert.Equal(result.GetProperty("firstId").GetString(), result.GetProperty("secondId").GetString());
        // The result comes with the ImageGetOrCreate answer itself: nothing is built or joined again.
        Assert.Equal(1, result.GetProperty("secondStatus").GetInt32());
        Assert.Equal(1, BuildsOf(result.GetProperty("firstId").GetString()!));
    }

    [Fact]
    public async Task Build_logs_stream_while_a_step_runs()
    {
        var result = await fixture.RunAsync("images.mjs", "streamed-logs", new Dictionary<string, string> { ["TOKEN"] = "stream" });

        Assert.Equal(1, result.GetProperty("status").GetInt32());
        var messages = result.GetProperty("messages").EnumerateArray().ToList();
        var first = messages.FindIndex(m => m.GetProperty("text").GetString()!.Split('\n').Contains("first-line-stream"));
        var second = messages.FindIndex(m => m.GetProperty("text").GetString()!.Split('\n').Contains("second-line-stream"));
        Assert.True(first >= 0 && second >= 0, $"both lines are in the log: {JsonSerializer.Serialize(messages)}");
        // The step sleeps between its two lines: the first arrived in its own message, before the step ended.
        Assert.True(first < second, $"the first line came in an earlier message than the second: {JsonSerializer.Serialize(messages)}");
        Assert.Contains(messages, m => m.GetProperty("text").GetString()!.Contains("Step 2/2: RUN echo first-line-stream", StringComparison.Ordinal));
        Assert.Equal(1, messages[^1].GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_failing_step_fails_the_build_with_its_exit_code_and_output()
    {
        var result = await fixture.RunAsync("images.mjs", "failing-step", new Dictionary<string, string> { ["TOKEN"] = "fail" });

        foreach (var attempt in new[] { "first", "second", "sandbox" })
        {
            var message = Error(result, attempt);
            Assert.StartsWith("Image build for im-", message, StringComparison.Ordinal);
            Assert.Contains("failed with the exception:", message, StringComparison.Ordinal);
            Assert.Contains("RUN echo about-to-fail-fail", message, StringComparison.Ordinal);
            Assert.Contains("exit code 3", message, StringComparison.Ordinal);
            Assert.Contains("about-to-fail-fail", message.Split("last output:")[^1], StringComparison.Ordinal);
            Assert.Contains("on-stderr", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Layer_env_and_secrets_reach_RUN_steps_only_and_their_values_make_the_image()
    {
        var result = await fixture.RunAsync("images.mjs", "build-secrets", new Dictionary<string, string> { ["TOKEN"] = "sec" });

        Assert.Equal(result.GetProperty("firstId").GetString(), result.GetProperty("sameId").GetString());
        Assert.NotEqual(result.GetProperty("firstId").GetString(), result.GetProperty("changedId").GetString());
        // Built with the values; not left in the image's environment.
        Assert.Equal("a1-b-sec\nunset unset\n", result.GetProperty("first").GetString());
        Assert.Equal("a2-b-sec\nunset unset\n", result.GetProperty("changed").GetString());
        Assert.DoesNotContain("b-sec", fixture.Logs.Text, StringComparison.Ordinal);
        Assert.Equal(1, BuildsOf(result.GetProperty("firstId").GetString()!));
    }

    [Fact]
    public async Task CMD_ENTRYPOINT_LABEL_and_EXPOSE_build_and_sandboxes_run_their_own_command()
    {
        var result = await fixture.RunAsync("images.mjs", "metadata-instructions", new Dictionary<string, string> { ["TOKEN"] = "meta" });

        // LABEL is part of the image's identity; the RUN after the four instructions ran.
        Assert.NotEqual(result.GetProperty("imageId").GetString(), result.GetProperty("relabelledId").GetString());
        Assert.Equal(1, BuildsOf(result.GetProperty("imageId").GetString()!));
        var idle = result.GetProperty("idle");
        Assert.Equal("after-metadata-meta\n", idle.GetProperty("after").GetString());
        // Without a command the sandbox idles: the image's ENTRYPOINT (/bin/false) did not become its main process.
        Assert.Equal(JsonValueKind.Null, idle.GetProperty("poll").ValueKind);
        Assert.Equal("own-command\n", result.GetProperty("ownOut").GetString());
        Assert.Equal(4, result.GetProperty("ownCode").GetInt32());
    }

    [Fact]
    public async Task An_unknown_instruction_is_an_invalid_argument()
    {
        var result = await fixture.RunAsync("images.mjs", "bad-instruction");

        var message = Error(result, "bad-instruction", out _);
        Assert.Contains("INVALID_ARGUMENT", message, StringComparison.Ordinal);
        Assert.Contains("FROBNICATE", message, StringComparison.Ordinal);
    }

    /// <summary>How many builds of the image ran in this engine: each logs "Image {id} is ready" when it ends; a cache hit logs nothing.</summary>
    private int BuildsOf(string imageId) =>
        fixture.Logs.Entries.Count(e => e.Contains($"Image {imageId} is ready", StringComparison.Ordinal));
}
