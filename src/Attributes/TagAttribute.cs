using System;

namespace TypedSandbox;

/// <summary>Tags the sandbox; the generated <c>ListAsync</c> lists only sandboxes carrying every tag of the class.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TagAttribute : Attribute
{
    /// <summary>Tags the sandbox with <paramref name="key"/> = <paramref name="value"/>.</summary>
    /// <param name="key">Letters, digits, '-', '_', '.' and '/', at most 63 characters.</param>
    /// <param name="value">At most 255 characters, no control characters.</param>
    public TagAttribute(string key, string value)
    {
        Key = key;
        Value = value;
    }

    /// <summary>The tag's key, unique within the class.</summary>
    public string Key { get; }

    /// <summary>The tag's value.</summary>
    public string Value { get; }
}
