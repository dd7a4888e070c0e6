using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace TypedSandbox.Samples.CodeInterpreter;

/// <summary>
/// Stands in for a language model: no model weights or hosted model are available where this sample runs, so this
/// <see cref="IChatClient"/> answers from a script. Its first answer asks for the <c>run_code</c> tool with the JSON
/// arguments a model would send; once the tool's result is in the conversation, it answers with text built from it.
/// Replace it with a real client (OpenAI, Azure OpenAI, Ollama, …) and the rest of the pipeline stays the same.
/// </summary>
internal sealed class ScriptedModel : IChatClient
{
    /// <summary>The tool call the "model" makes: Python that prints the first ten primes and saves them to a file.</summary>
    public const string ToolArguments = """
        {"language": "python", "code": "primes = [n for n in range(2, 30) if all(n % d for d in range(2, n))]\ntext = ', '.join(map(str, primes))\nopen('primes.txt', 'w').write(text + '\\n')\nprint(text)\n"}
        """;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
        if (result is null)
        {
            if (options?.Tools?.Any(t => t.Name == "run_code") != true)
            {
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "I have no way to run code.")));
            }
            // What a chat client does with a model's tool call: parse its JSON arguments into a dictionary.
            var call = FunctionCallContent.CreateFromParsedArguments(ToolArguments, "call-1", "run_code",
                static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json));
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [call])));
        }

        var answer = result.Result is JsonElement { ValueKind: JsonValueKind.Object } json
            && json.GetProperty("exit_code").ValueKind == JsonValueKind.Number && json.GetProperty("exit_code").GetInt32() == 0
            ? $"The primes below 30 are {json.GetProperty("stdout").GetString()!.Trim()}; I saved them to " +
              string.Join(", ", json.GetProperty("files_written").EnumerateArray().Select(f => f.GetProperty("path").GetString())) + "."
            : $"Running the code failed: {result.Result}";
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer)));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
