using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace TypedSandbox.Generators.Model;

/// <summary>
/// Every [Command] spec of the compilation, grouped once by containing type so each class finds its own commands
/// in one lookup (linear in classes + commands, not their product). Equal when the specs are equal, in order.
/// </summary>
internal sealed class CommandsByType : IEquatable<CommandsByType>
{
    private readonly EquatableArray<CommandSpec> _all;
    private readonly Dictionary<string, EquatableArray<CommandSpec>> _byType;

    public CommandsByType(ImmutableArray<CommandSpec> commands)
    {
        _all = commands.ToEquatableArray();
        _byType = commands
            .GroupBy(c => c.ContainingType, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToEquatableArray(), StringComparer.Ordinal);
    }

    /// <summary>The commands of <paramref name="fullyQualifiedType"/> ("global::Demo.TestRunner"), in source order.</summary>
    public EquatableArray<CommandSpec> For(string fullyQualifiedType) =>
        _byType.TryGetValue(fullyQualifiedType, out var commands) ? commands : default;

    public bool Equals(CommandsByType? other) => other is not null && _all.Equals(other._all);

    public override bool Equals(object? obj) => Equals(obj as CommandsByType);

    public override int GetHashCode() => _all.GetHashCode();
}
