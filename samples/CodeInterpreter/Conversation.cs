using Microsoft.Extensions.AI;
using TypedSandbox.AI;

namespace TypedSandbox.Samples.CodeInterpreter;

/// <summary>One conversation: a user question, the "model" calling run_code through function invocation, its answer.</summary>
internal static class Conversation
{
    public const string Question = "Which numbers below 30 are prime? Save them to a file.";

    /// <summary>Runs the conversation with <paramref name="client"/>'s sandboxes and returns every message of it.</summary>
    public static async Task<IReadOnlyList<ChatMessage>> RunAsync(SandboxClient client, CodeInterpreterOptions options, CancellationToken cancellationToken)
    {
        // One interpreter per conversation: disposing it terminates the conversation's sandbox.
        await using var interpreter = SandboxTools.CreateCodeInterpreter(client, options with { Lifetime = CodeInterpreterSandboxLifetime.PerConversation });
        using var chat = new ChatClientBuilder(new ScriptedModel()).UseFunctionInvocation().Build();

        List<ChatMessage> messages = [new(ChatRole.User, Question)];
        var response = await chat.GetResponseAsync(messages, new ChatOptions { Tools = [interpreter] }, cancellationToken).ConfigureAwait(false);
        messages.AddRange(response.Messages);
        return messages;
    }
}
