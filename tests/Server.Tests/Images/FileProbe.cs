using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>What <c>stat</c> says about a path (without following symlinks).</summary>
internal sealed record FileFacts(string Type, string Mode, int Uid, int Gid, int Major, int Minor, int Links);

/// <summary>Inspects layer directories the way overlayfs will see them.</summary>
internal static class FileProbe
{
    public static FileFacts Stat(string path)
    {
        var output = Run("stat", "--format=%F|%a|%u|%g|%t|%T|%h", path).Trim();
        var f = output.Split('|');
        return new FileFacts(f[0], f[1], int.Parse(f[2]), int.Parse(f[3]), Convert.ToInt32(f[4], 16), Convert.ToInt32(f[5], 16), int.Parse(f[6]));
    }

    public static string? GetXattr(string path, string name)
    {
        var buffer = new byte[256];
        var size = lgetxattr(path, name, buffer, (nuint)buffer.Length);
        return size < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)size);
    }

    /// <summary>Lists the merged view of <paramref name="layerDirs"/> (top first) through a read-only overlayfs in a private mount namespace.</summary>
    public static IReadOnlySet<string> MergedFiles(IReadOnlyList<string> layerDirs, string scratchDir)
    {
        var lower = layerDirs.Count == 1 ? layerDirs[0] + ":" + EmptyDir(scratchDir) : string.Join(':', layerDirs);
        var target = Path.Combine(scratchDir, "merged-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        try
        {
            var output = Run("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                "mount -t overlay overlay -o \"lowerdir=$1\" \"$2\" && cd \"$2\" && find . -mindepth 1", "sh", lower, target);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[2..]).ToHashSet();
        }
        finally
        {
            Directory.Delete(target);
        }
    }

    /// <summary>Reads a file through the merged view.</summary>
    public static string MergedRead(IReadOnlyList<string> layerDirs, string scratchDir, string relativePath)
    {
        var lower = layerDirs.Count == 1 ? layerDirs[0] + ":" + EmptyDir(scratchDir) : string.Join(':', layerDirs);
        var target = Path.Combine(scratchDir, "merged-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        try
        {
            return Run("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                "mount -t overlay overlay -o \"lowerdir=$1\" \"$2\" && cat \"$2/$3\"", "sh", lower, target, relativePath);
        }
        finally
        {
            Directory.Delete(target);
        }
    }

    private static string EmptyDir(string scratchDir)
    {
        var empty = Path.Combine(scratchDir, "empty");
        Directory.CreateDirectory(empty);
        return empty;
    }

    public static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern nint lgetxattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size);
}
