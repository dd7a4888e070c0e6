namespace TypedSandbox.AI;

/// <summary>Tools for Microsoft.Extensions.AI chat clients that run model-written code in sandboxes.</summary>
public static class SandboxTools
{
    /// <summary>
    /// A code interpreter: an <see cref="Microsoft.Extensions.AI.AIFunction"/> named <c>run_code</c> taking
    /// <c>{ "language": "python" | "sh", "code": "…" }</c> that runs the code in a sandbox (no network, a timeout and
    /// output caps by default) and returns its exit code, stdout, stderr and the files it wrote. Add it to
    /// <c>ChatOptions.Tools</c> of a chat client with function invocation; dispose it when the conversation ends.
    /// </summary>
    /// <param name="client">The client sandboxes are created with.</param>
    /// <param name="options">Image, lifetime, limits and files; the defaults when null.</param>
    /// <returns>The function.</returns>
    public static CodeInterpreterFunction CreateCodeInterpreter(SandboxClient client, CodeInterpreterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new CodeInterpreterFunction(client, options ?? new CodeInterpreterOptions());
    }
}
