using Microsoft.Extensions.AI;
using TypedSandbox.AI;
using TypedSandbox.Samples;
using TypedSandbox.Samples.CodeInterpreter;

// CodeInterpreter: a chat pipeline (IChatClient + FunctionInvokingChatClient) whose model calls the run_code tool, which
// runs the model's Python in a sandbox. The "model" here is ScriptedModel, a scripted stand-in: no model weights are
// available where this sample runs. Runs on the embedded engine unless MODAL_SERVER_URL (or ~/.modal.toml) points
// elsewhere; exits with 0 when the answer carries the code's output.
await using var engine = await SampleEngine.StartIfNeededAsync();
await using var client = SampleEngine.CreateClient(engine);

var messages = await Conversation.RunAsync(client, new CodeInterpreterOptions(), CancellationToken.None);
foreach (var message in messages)
{
    foreach (var content in message.Contents)
    {
        Console.WriteLine(content switch
        {
            FunctionCallContent call => $"[{message.Role}] calls {call.Name}({string.Join(", ", call.Arguments?.Select(a => $"{a.Key}: {a.Value}") ?? [])})",
            FunctionResultContent result => $"[tool] {result.Result}",
            TextContent text => $"[{message.Role}] {text.Text}",
            _ => $"[{message.Role}] {content}",
        });
    }
}

var ok = messages[^1].Text.Contains("2, 3, 5, 7, 11, 13, 17, 19, 23, 29", StringComparison.Ordinal);
return ok ? 0 : 1;
