using TypedSandbox;

[Sandbox]
[SandboxImage(DebianSuite = "trixie", AptInstall = new[] { "python3" })]
internal partial class Scratch
{
}
