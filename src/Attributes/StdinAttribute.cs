using System;

namespace TypedSandbox;

/// <summary>
/// Writes a [Command] parameter (<see cref="string"/> as UTF-8, <c>byte[]</c> or a <c>Stream</c>) to the command's
/// standard input, which is then closed. At most one parameter per command.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class StdinAttribute : Attribute
{
}
