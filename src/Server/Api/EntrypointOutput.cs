using System.Runtime.CompilerServices;
using System.Text;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Api;

/// <summary>A piece of entrypoint output as text, with the byte offset to resume after it.</summary>
internal readonly record struct TextChunk(string Text, long NextOffset, bool Eof);

/// <summary>Reads a sandbox's entrypoint output for the protocol's two stdio paths (V1 text logs, V2 router bytes).</summary>
internal static class EntrypointOutput
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>The entrypoint process, or FAILED_PRECONDITION when the sandbox was created without a command.</summary>
    public static SupervisedProcess RequireEntrypoint(SandboxSession session) =>
        session.Container?.Entrypoint
            ?? throw EngineException.Precondition($"Sandbox {session.Id} was created without a command, so it has no entrypoint stdin.");

    /// <summary>
    /// The entrypoint's stdout or stderr journal; null for a sandbox without a command (its streams are empty and end
    /// when the sandbox ends).
    /// </summary>
    public static ExecJournal? Journal(SandboxSession session, bool stderr) =>
        session.Container?.Entrypoint is { } entrypoint ? (stderr ? entrypoint.Stderr : entrypoint.Stdout) : null;

    /// <summary>Output from <paramref name="offset"/> as UTF-8 text, ending with an EOF chunk.</summary>
    public static async IAsyncEnumerable<TextChunk> ReadTextAsync(
        SandboxSession session, bool stderr, long offset, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var journal = Journal(session, stderr);
        if (journal is null)
        {
            await session.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            yield return new TextChunk("", offset, Eof: true);
            yield break;
        }

        // A character split across chunks stays in the decoder until its last byte arrives.
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        var chars = new char[ChunkBytes + 4];
        while (true)
        {
            var data = await journal.ReadAsync(offset, ChunkBytes, cancellationToken).ConfigureAwait(false);
            if (data.IsEmpty)
            {
                var tail = decoder.GetChars(ReadOnlySpan<byte>.Empty, chars, flush: true);
                yield return new TextChunk(new string(chars, 0, tail), offset, Eof: true);
                yield break;
            }

            offset += data.Length;
            var count = decoder.GetChars(data.Span, chars, flush: false);
            yield return new TextChunk(new string(chars, 0, count), offset, Eof: false);
        }
    }
}
