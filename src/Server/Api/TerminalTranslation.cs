using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;

namespace TypedSandbox.Server.Api;

/// <summary>Modal's <c>PTYInfo</c> (on an exec or a sandbox definition) → the engine's terminal settings.</summary>
internal static class TerminalTranslation
{
    /// <summary>The terminal asked for, or null when <paramref name="info"/> asks for none.</summary>
    /// <exception cref="EngineException">A window dimension does not fit a terminal (at most 65535 cells).</exception>
    public static TerminalSettings? From(PTYInfo? info)
    {
        // Modal's SDKs set both; "enabled" is marked soon-deprecated, so a shell-type request alone counts too.
        if (info is null || !(info.Enabled || info.PtyType != PTYInfo.Types.PTYType.Unspecified))
        {
            return null;
        }

        return new TerminalSettings(
            Dimension(info.WinszRows, TerminalSettings.DefaultRows, "rows"),
            Dimension(info.WinszCols, TerminalSettings.DefaultColumns, "columns"),
            string.IsNullOrEmpty(info.EnvTerm) ? TerminalSettings.DefaultTerm : info.EnvTerm,
            info.EnvColorterm,
            info.EnvTermProgram);
    }

    private static ushort Dimension(uint value, ushort fallback, string name) => value switch
    {
        0 => fallback,
        <= ushort.MaxValue => (ushort)value,
        _ => throw EngineException.Invalid($"A terminal of {value} {name} was asked for; at most {ushort.MaxValue} are allowed."),
    };
}
