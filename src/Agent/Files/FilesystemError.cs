using System.Runtime.InteropServices;

namespace TypedSandbox.Agent.Files;

/// <summary>
/// A failed filesystem command. <see cref="Kind"/> is the <c>error_kind</c> Modal's SDKs map to their error classes
/// (NotFound, NotDirectory, IsDirectory, FileTooLarge, PathAlreadyExists, DirectoryNotEmpty, PermissionDenied, ...).
/// </summary>
internal sealed class FilesystemError(string kind, string message, string detail) : Exception(message)
{
    public string Kind { get; } = kind;
    public string Detail { get; } = detail;

    /// <summary>The errno of the last libc call, classified; <paramref name="call"/> and the path go into the detail.</summary>
    public static FilesystemError FromErrno(string call, string path) => FromErrno(Marshal.GetLastPInvokeError(), call, path);

    public static FilesystemError FromErrno(int errno, string call, string path)
    {
        var kind = errno switch
        {
            Libc.ENOENT => "NotFound",
            Libc.ENOTDIR => "NotDirectory",
            Libc.EISDIR => "IsDirectory",
            Libc.EEXIST => "PathAlreadyExists",
            Libc.ENOTEMPTY => "DirectoryNotEmpty",
            Libc.EACCES or Libc.EPERM or Libc.EROFS => "PermissionDenied",
            Libc.ELOOP => "TooManySymlinks",
            _ => "Other",
        };
        var text = Libc.ErrorText(errno);
        return new FilesystemError(kind, text, $"{call} {path}: {text} (os error {errno})");
    }
}
