using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class PathsTests
{
    [Theory]
    [InlineData("/data")]
    [InlineData("/mnt/cache/pip")]
    [InlineData("/a.b/c-d")]
    public void CheckMountPath_accepts_absolute_canonical_paths(string path) =>
        Assert.Null(Paths.CheckMountPath(path));

    [Theory]
    [InlineData("data", "Mount path 'data' is not absolute; use an absolute path such as '/data'")]
    [InlineData("./data", "Mount path './data' is not absolute; use an absolute path such as '/data'")]
    [InlineData("/", "Mount path '/' is the root directory; mount at a directory below it such as '/data'")]
    [InlineData("/data/..", "Mount path '/data/..' is the root directory; mount at a directory below it such as '/data'")]
    [InlineData("/data/", "Mount path '/data/' is not canonical; write it as '/data'")]
    [InlineData("/a//b", "Mount path '/a//b' is not canonical; write it as '/a/b'")]
    [InlineData("/a/./b/../c", "Mount path '/a/./b/../c' is not canonical; write it as '/a/c'")]
    [InlineData("", "Mount path is empty; use an absolute path such as '/data'")]
    public void CheckMountPath_explains_what_is_wrong(string path, string expected) =>
        Assert.Equal(expected, Paths.CheckMountPath(path));

    [Theory]
    [InlineData("/.typedsandbox", "/.typedsandbox")]
    [InlineData("/.typedsandbox/agent", "/.typedsandbox")]
    [InlineData("/proc", "/proc")]
    [InlineData("/proc/self", "/proc")]
    [InlineData("/sys", "/sys")]
    [InlineData("/sys/fs/cgroup", "/sys")]
    [InlineData("/dev", "/dev")]
    [InlineData("/dev/x", "/dev")]
    public void CheckMountPath_refuses_the_runtimes_directories(string path, string reserved) =>
        Assert.Equal(
            $"Mount path '{path}' is at or below '{reserved}', which the sandbox's runtime owns; mount outside /.typedsandbox, /proc, /sys, /dev (such as '/data')",
            Paths.CheckMountPath(path));

    [Theory]
    [InlineData("/device")]
    [InlineData("/process")]
    [InlineData("/.typedsandbox-data")]
    [InlineData("/data/proc")]
    public void CheckMountPath_accepts_names_that_only_start_like_a_reserved_directory(string path) =>
        Assert.Null(Paths.CheckMountPath(path));

    [Fact]
    public void CheckMountPath_rejects_control_characters() =>
        Assert.Contains("contains a line break", Paths.CheckMountPath("/da\nta"), StringComparison.Ordinal);

    [Theory]
    [InlineData("/app", null)]
    [InlineData("/", null)]
    [InlineData("app", "Workdir 'app' is not absolute; use an absolute path such as '/app'")]
    [InlineData("", "Workdir is empty; use an absolute path such as '/app'")]
    public void CheckWorkdir_requires_an_absolute_path(string path, string? expected) =>
        Assert.Equal(expected, Paths.CheckWorkdir(path, "Workdir"));

    [Theory]
    [InlineData("/a/../../b", "/b")]
    [InlineData("//", "/")]
    [InlineData("/x/y/", "/x/y")]
    public void Canonicalize_resolves_dots_and_slashes(string path, string expected) =>
        Assert.Equal(expected, Paths.Canonicalize(path));
}
