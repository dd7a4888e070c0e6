// Shared by the agent and the engine (linked into src/Server): the framed protocol on the agent's stdin/stdout.
using System.Buffers.Binary;
using System.Text;

namespace TypedSandbox.Agent.Protocol;

/// <summary>Where the agent lives inside every sandbox (a read-only bind mount of the engine's agent directory).</summary>
internal static class AgentLayout
{
    public const string MountPoint = "/.typedsandbox";
    public const string LoaderName = "ld-linux-x86-64.so.2";
    public const string AgentName = "typedsandbox-agent";

    /// <summary>gVisor sandboxes only: the read-only share through which the engine hands mountImage's images in.</summary>
    public const string ImageShareMountPoint = "/dev/.typedsandbox-images";

    /// <summary>Modal's SDKs run this path for sandbox filesystem calls; the agent answers it itself (fs-tools mode).</summary>
    public const string FsToolsPath = "/__modal/.bin/modal-sandbox-fs-tools";

    /// <summary>argv that runs the agent through the host loader mounted beside it (images may have no libc).</summary>
    public static string[] AgentCommand(params string[] arguments) =>
        [$"{MountPoint}/{LoaderName}", "--library-path", MountPoint, $"{MountPoint}/{AgentName}", .. arguments];
}

/// <summary>Frame types. Engine → agent are below 10, agent → engine from 10.</summary>
internal enum FrameType : byte
{
    /// <summary>Start a process: payload is an encoded <see cref="SpawnRequest"/>.</summary>
    Spawn = 1,
    /// <summary>Bytes for the process's stdin.</summary>
    Stdin = 2,
    /// <summary>Close the process's stdin.</summary>
    StdinClose = 3,
    /// <summary>Send a signal (int32 payload) to the process's process group; for a connection: close it.</summary>
    Signal = 4,
    /// <summary>Open a TCP connection to 127.0.0.1:port inside the sandbox (payload: <see cref="ConnectRequest"/>). It then
    /// works like a process: Stdin frames are sent to the port, its replies come back as Stdout frames, StdinClose half-closes.</summary>
    Connect = 5,
    /// <summary>More output credit for one stream of a process or connection: payload is the stream (1 byte, 1 = stdout,
    /// 2 = stderr) and the total bytes of that stream the agent may have sent so far (int64; the agent keeps the largest).</summary>
    Credit = 6,
    /// <summary>The engine is stopping and hands this sandbox to the next engine: the agent answers
    /// <see cref="Detached"/>, then sends nothing and keeps every process running until a <see cref="Reattach"/> arrives,
    /// at most the int32 payload's seconds (then it ends the sandbox). A channel closed without it still ends the sandbox.</summary>
    Detach = 7,
    /// <summary>A new engine took over the channel (it reopened the pipes and continues the seal's sequence numbers):
    /// output flows again.</summary>
    Reattach = 8,

    /// <summary>The agent is listening; payload is the protocol version (uint32).</summary>
    Ready = 10,
    /// <summary>The process started; payload is its pid inside the sandbox (int32).</summary>
    Started = 11,
    /// <summary>The process could not start; payload is a UTF-8 message.</summary>
    SpawnFailed = 12,
    /// <summary>Bytes the process wrote to stdout.</summary>
    Stdout = 13,
    /// <summary>Bytes the process wrote to stderr.</summary>
    Stderr = 14,
    /// <summary>One output stream reached EOF; payload is one byte, 1 = stdout, 2 = stderr.</summary>
    StreamClosed = 15,
    /// <summary>The process was reaped; payload is exit code (int32, -1 when signalled) and signal (int32, 0 when none).</summary>
    Exited = 16,
    /// <summary>Answer to <see cref="Detach"/>: the agent's last frame until <see cref="Reattach"/>.</summary>
    Detached = 17,
}

/// <summary>Frame layout: type (1 byte), process id (uint32 LE), payload length (uint32 LE), payload.</summary>
internal static class Frames
{
    public const int HeaderSize = 9;
    public const uint Version = 4;
    /// <summary>Upper bound for one payload; larger data is split by the sender.</summary>
    public const int MaxPayload = 1 << 20;

    public static void WriteHeader(Span<byte> destination, FrameType type, uint id, int length)
    {
        destination[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], id);
        BinaryPrimitives.WriteInt32LittleEndian(destination[5..], length);
    }

    public static (FrameType Type, uint Id, int Length) ReadHeader(ReadOnlySpan<byte> source) =>
        ((FrameType)source[0], BinaryPrimitives.ReadUInt32LittleEndian(source[1..]), BinaryPrimitives.ReadInt32LittleEndian(source[5..]));
}

/// <summary>Payload of a <see cref="FrameType.Credit"/> frame.</summary>
internal readonly record struct CreditGrant(byte Stream, long Limit)
{
    public const int Size = 9;

    public byte[] Encode()
    {
        var payload = new byte[Size];
        payload[0] = Stream;
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(1), Limit);
        return payload;
    }

    public static CreditGrant Decode(ReadOnlySpan<byte> payload) =>
        payload.Length < Size ? throw new InvalidDataException("short credit frame") : new(payload[0], BinaryPrimitives.ReadInt64LittleEndian(payload[1..]));
}

/// <summary>Payload of a <see cref="FrameType.Connect"/> frame: the port and the initial output credit (0 = none needed).</summary>
internal readonly record struct ConnectRequest(int Port, long OutputWindow)
{
    public byte[] Encode()
    {
        var payload = new byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(payload, Port);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(4), OutputWindow);
        return payload;
    }

    public static ConnectRequest Decode(ReadOnlySpan<byte> payload) =>
        payload.Length < 12 ? throw new InvalidDataException("short connect frame") : new(BinaryPrimitives.ReadInt32LittleEndian(payload), BinaryPrimitives.ReadInt64LittleEndian(payload[4..]));
}

/// <summary>The window of a pseudo-terminal, in character cells.</summary>
internal readonly record struct TerminalSize(ushort Rows, ushort Columns);

/// <summary>What the engine asks the agent to run. <paramref name="OutputWindow"/>: bytes of each output stream the agent
/// may send before the engine grants more (<see cref="FrameType.Credit"/>); 0 = no limit. <paramref name="Terminal"/>:
/// run the process on a new pseudo-terminal of that size (its output comes as stdout; stderr stays empty).</summary>
internal sealed record SpawnRequest(
    IReadOnlyList<string> Args,
    IReadOnlyList<string> Env,
    string? Workdir,
    bool IsMain,
    bool DiscardStdout,
    bool DiscardStderr,
    long OutputWindow = 0,
    TerminalSize? Terminal = null)
{
    private const byte MainFlag = 1, DiscardStdoutFlag = 2, DiscardStderrFlag = 4, TerminalFlag = 8;

    public byte[] Encode()
    {
        var size = 1 + 8 + 4 + 4 + 4 + Encoding.UTF8.GetByteCount(Workdir ?? "") + (Terminal is null ? 0 : 4);
        foreach (var a in Args)
        {
            size += 4 + Encoding.UTF8.GetByteCount(a);
        }

        foreach (var e in Env)
        {
            size += 4 + Encoding.UTF8.GetByteCount(e);
        }

        var buffer = new byte[size];
        var span = buffer.AsSpan();
        span[0] = (byte)((IsMain ? MainFlag : 0) | (DiscardStdout ? DiscardStdoutFlag : 0) | (DiscardStderr ? DiscardStderrFlag : 0)
            | (Terminal is null ? 0 : TerminalFlag));
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], OutputWindow);
        var pos = 9;
        WriteString(span, ref pos, Workdir ?? "");
        WriteList(span, ref pos, Args);
        WriteList(span, ref pos, Env);
        if (Terminal is { } terminal)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[pos..], terminal.Rows);
            BinaryPrimitives.WriteUInt16LittleEndian(span[(pos + 2)..], terminal.Columns);
        }

        return buffer;
    }

    public static SpawnRequest Decode(ReadOnlySpan<byte> span)
    {
        var flags = span[0];
        var window = BinaryPrimitives.ReadInt64LittleEndian(span[1..]);
        var pos = 9;
        var workdir = ReadString(span, ref pos);
        var args = ReadList(span, ref pos);
        var env = ReadList(span, ref pos);
        TerminalSize? terminal = null;
        if ((flags & TerminalFlag) != 0)
        {
            if (pos + 4 > span.Length)
            {
                throw new InvalidDataException("short terminal size");
            }

            terminal = new TerminalSize(BinaryPrimitives.ReadUInt16LittleEndian(span[pos..]), BinaryPrimitives.ReadUInt16LittleEndian(span[(pos + 2)..]));
        }

        return new SpawnRequest(args, env, workdir.Length == 0 ? null : workdir,
            (flags & MainFlag) != 0, (flags & DiscardStdoutFlag) != 0, (flags & DiscardStderrFlag) != 0, window, terminal);
    }

    private static void WriteList(Span<byte> span, ref int pos, IReadOnlyList<string> items)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], items.Count);
        pos += 4;
        foreach (var item in items)
        {
            WriteString(span, ref pos, item);
        }
    }

    private static void WriteString(Span<byte> span, ref int pos, string value)
    {
        var n = Encoding.UTF8.GetBytes(value, span[(pos + 4)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[pos..], n);
        pos += 4 + n;
    }

    private static string[] ReadList(ReadOnlySpan<byte> span, ref int pos)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
        pos += 4;
        if (count < 0 || count > span.Length)
        {
            throw new InvalidDataException("bad list length");
        }

        var items = new string[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = ReadString(span, ref pos);
        }

        return items;
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int pos)
    {
        var n = BinaryPrimitives.ReadInt32LittleEndian(span[pos..]);
        pos += 4;
        if (n < 0 || pos + n > span.Length)
        {
            throw new InvalidDataException("bad string length");
        }

        var s = Encoding.UTF8.GetString(span.Slice(pos, n));
        pos += n;
        return s;
    }
}
