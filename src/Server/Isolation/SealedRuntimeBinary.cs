using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// crun run from a sealed in-memory copy of itself. Every crun invocation first makes sure the binary it runs cannot be
/// written through <c>/proc/self/exe</c> by a container (CVE-2019-5736): started from a writable file, it binds itself
/// read-only onto a temporary file and executes itself a second time, which on this kind of host costs ~4 ms of each
/// start (the dynamic loading done twice). A memfd holding the binary with the write, grow, shrink and seal seals set is
/// what crun (like runc) accepts as already safe, so it runs once. The protection is the same: no write reaches a sealed
/// memfd, whoever asks.
/// </summary>
/// <remarks>
/// One copy per binary (by path, size and modification time, so an upgraded binary gets a copy of its own) for the
/// engine process's lifetime: a descriptor and the binary's size in memory, shared by every engine in the process.
/// </remarks>
internal static partial class SealedRuntimeBinary
{
    private const uint MfdCloexec = 1, MfdAllowSealing = 2;
    private const int FAddSeals = 1033, FGetSeals = 1034;

    /// <summary>F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: the set crun and runc check for.</summary>
    public const int Seals = 1 | 2 | 4 | 8;

    // The copies, kept open (and so alive) for the process's lifetime.
    private static readonly ConcurrentDictionary<(string Path, long Size, DateTime Modified), Lazy<Copy?>> Copies = new();

    private sealed record Copy(SafeFileHandle Handle, string Path);

    /// <summary>
    /// The path the engine's children execute instead of <paramref name="binary"/> (<c>/proc/self/fd/&lt;n&gt;</c> of the
    /// sealed copy: valid in the engine and in the children it starts directly, not in a process they start), or <paramref name="binary"/> itself when no copy could be made (the runtime then protects itself as usual).
    /// </summary>
    public static string For(string binary, ILogger logger)
    {
        FileInfo file;
        try
        {
            file = new FileInfo(binary);
            if (!file.Exists)
            {
                return binary;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return binary;
        }

        var copy = Copies.GetOrAdd((file.FullName, file.Length, file.LastWriteTimeUtc), key => new Lazy<Copy?>(() => MakeCopy(key.Path, logger)));
        return copy.Value?.Path ?? binary;
    }

    /// <summary>The seals set on the open file <paramref name="path"/> names; -1 when it is no memfd.</summary>
    public static int SealsOf(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        return Fcntl(handle, FGetSeals, 0);
    }

    private static Copy? MakeCopy(string binary, ILogger logger)
    {
        var fd = MemfdCreate(Path.GetFileName(binary), MfdCloexec | MfdAllowSealing);
        if (fd < 0)
        {
            var error = "memfd_create: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            IsolationLog.SealedRuntimeCopyFailed(logger, binary, error);
            return null;
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var bytes = File.ReadAllBytes(binary);
            // Only an ELF image runs from a close-on-exec descriptor: a "#!" wrapper's interpreter would be handed a
            // /proc/self/fd path that is gone by then. A wrapper runs from its file.
            if (!bytes.AsSpan().StartsWith("\u007fELF"u8))
            {
                throw new IOException("not an ELF executable (a wrapper script?)");
            }

            RandomAccess.Write(handle, bytes, fileOffset: 0);
            if (Fcntl(handle, FAddSeals, Seals) != 0)
            {
                throw new IOException($"sealing: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            IsolationLog.SealedRuntimeCopyFailed(logger, binary, e.Message);
            handle.Dispose();
            return null;
        }

        // The engine's children execute this path: a child has the descriptor until its exec completes (the path is
        // resolved first, close-on-exec applies after), so the new image has no descriptor of it. "self" rather than
        // the engine's pid: the path then also holds where /proc belongs to another pid namespace.
        var path = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}");
        IsolationLog.SealedRuntimeCopyMade(logger, binary, path);
        return new Copy(handle, path);
    }

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeFileHandle fd, int command, int argument);
}
