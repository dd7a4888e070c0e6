using System.Text;

namespace TypedSandbox.Dsl;

/// <summary>A command's streams as the DSL uses them: stdin written from a value, output read to its end, the exit awaited.</summary>
internal static class ProcessStreams
{
    /// <summary>The exit code, or <see langword="null"/> when the process was killed at its timeout.</summary>
    public static async Task<int?> WaitOrTimeoutAsync(ContainerProcess process, CancellationToken cancellationToken)
    {
        try
        {
            return await process.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ExecTimeoutException)
        {
            return null;
        }
    }

    /// <summary>Reads a stream to its end as UTF-8; a timeout ends it with what arrived until then.</summary>
    public static async Task<string> ReadAllAsync(SandboxOutputStream stream, CancellationToken cancellationToken)
    {
        var bytes = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int count;
            while ((count = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                bytes.Write(buffer, 0, count);
            }
        }
        catch (ExecTimeoutException)
        {
            // The process was killed at its timeout: keep what it wrote.
        }

        return Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
    }

    public static async Task WriteStdinAsync(ContainerProcess process, object value, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case string text:
                await process.Stdin.WriteAsync(text, cancellationToken).ConfigureAwait(false);
                break;
            case byte[] bytes:
                await process.Stdin.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                break;
            case Stream stream:
                await stream.CopyToAsync(process.Stdin, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new InvalidArgumentException($"A [Stdin] value must be a string, byte[] or Stream, not {value.GetType().Name}");
        }

        await process.Stdin.CloseAsync(cancellationToken).ConfigureAwait(false);
    }
}
