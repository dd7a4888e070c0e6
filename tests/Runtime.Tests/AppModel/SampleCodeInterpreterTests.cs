using System.Text.Json;
using Microsoft.Extensions.AI;
using TypedSandbox.AI;
using TypedSandbox.Runtime.Tests.Engine;
using TypedSandbox.Samples.CodeInterpreter;

namespace TypedSandbox.Runtime.Tests.AppModel;

/// <summary>samples/CodeInterpreter's conversation (scripted model, FunctionInvokingChatClient, run_code) against the test engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class SampleCodeInterpreterTests(EngineFixture fixture)
{
    [Fact]
    public async Task The_model_calls_run_code_and_answers_with_the_output_of_its_Python()
    {
        var tag = Guid.NewGuid().ToString("N");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));

        var messages = await Conversation.RunAsync(fixture.Client,
            new CodeInterpreterOptions { AppName = fixture.App.Name, Tags = new Dictionary<string, string> { ["test"] = tag } }, timeout.Token);

        var call = Assert.Single(messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("run_code", call.Name);
        var result = Assert.IsType<JsonElement>(Assert.Single(messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>()).Result);
        Assert.Equal(0, result.GetProperty("exit_code").GetInt32());
        Assert.Equal("The primes below 30 are 2, 3, 5, 7, 11, 13, 17, 19, 23, 29; I saved them to primes.txt.", messages[^1].Text);
        await foreach (var running in fixture.Client.Sandboxes.ListAsync(fixture.App.AppId, new Dictionary<string, string> { ["test"] = tag }))
        {
            Assert.Fail($"{running} still runs after the conversation");
        }
    }
}
