namespace TypedSandbox.Validation;

/// <summary>
/// Image references in the OCI distribution grammar: <c>[registry[:port]/]repository[:tag][@algorithm:hex]</c>, with
/// lower-case repository components such as <c>python</c>, <c>library/debian</c> or <c>ghcr.io/org/tool</c>.
/// </summary>
internal static class ImageReferences
{
    private const string Allowed = "use [registry/]repository[:tag][@digest] such as 'python:3.13-slim'";

    /// <summary>Checks an image reference.</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong and what is allowed.</returns>
    public static string? Check(string? reference)
    {
        var reason = Explain(reference);
        return reason is null ? null : $"Image reference '{reference}' {reason}; {Allowed}";
    }

    private static string? Explain(string? reference)
    {
        if (reference is null || reference.Length == 0)
        {
            return "is empty";
        }

        var name = reference;
        var at = name.IndexOf('@');
        if (at >= 0)
        {
            var digestProblem = ExplainDigest(name.Substring(at + 1));
            if (digestProblem is not null)
            {
                return digestProblem;
            }

            name = name.Substring(0, at);
        }

        var lastSlash = name.LastIndexOf('/');
        var colon = name.IndexOf(':', lastSlash + 1);
        if (colon >= 0)
        {
            var tag = name.Substring(colon + 1);
            if (!IsTag(tag))
            {
                return $"has tag '{tag}'; a tag is 1 to 128 letters, digits, '_', '.' or '-' and does not start with '.' or '-'";
            }

            name = name.Substring(0, colon);
        }

        if (name.Length == 0)
        {
            return "has no repository";
        }

        if (name.Length > 255)
        {
            return "has a name longer than 255 characters";
        }

        var components = name.Split('/');
        var first = 0;
        if (components.Length > 1 && LooksLikeRegistry(components[0]))
        {
            if (!IsRegistry(components[0]))
            {
                return $"has registry '{components[0]}'; a registry is a host name with an optional :port";
            }

            first = 1;
        }

        for (var i = first; i < components.Length; i++)
        {
            if (!IsPathComponent(components[i]))
            {
                return $"has repository part '{components[i]}'; repository parts are lower-case letters and digits separated by '.', '_', '__' or '-'";
            }
        }

        return null;
    }

    private static bool LooksLikeRegistry(string component) =>
        component.IndexOf('.') >= 0 || component.IndexOf(':') >= 0 || component == "localhost" || HasUpper(component);

    private static bool HasUpper(string s)
    {
        foreach (var c in s)
        {
            if (c >= 'A' && c <= 'Z')
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsRegistry(string registry)
    {
        var colon = registry.LastIndexOf(':');
        var host = colon >= 0 ? registry.Substring(0, colon) : registry;
        if (colon >= 0)
        {
            var port = registry.Substring(colon + 1);
            if (port.Length == 0 || port.Length > 5)
            {
                return false;
            }

            foreach (var c in port)
            {
                if (!Text.IsAsciiDigit(c))
                {
                    return false;
                }
            }
        }

        if (host.Length == 0)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (label.Length == 0 || label[0] == '-' || label[label.Length - 1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(Text.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool IsPathComponent(string component)
    {
        // alpha-numeric runs separated by '.', '_', '__' or one or more '-'.
        if (component.Length == 0 || !IsLowerAlnum(component[0]) || !IsLowerAlnum(component[component.Length - 1]))
        {
            return false;
        }

        for (var i = 0; i < component.Length;)
        {
            if (IsLowerAlnum(component[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < component.Length && !IsLowerAlnum(component[i]))
            {
                i++;
            }

            var separator = component.Substring(start, i - start);
            if (!(separator == "." || separator == "_" || separator == "__" || separator.Trim('-').Length == 0))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowerAlnum(char c) => (c >= 'a' && c <= 'z') || Text.IsAsciiDigit(c);

    private static bool IsTag(string tag)
    {
        if (tag.Length == 0 || tag.Length > 128 || tag[0] == '.' || tag[0] == '-')
        {
            return false;
        }

        foreach (var c in tag)
        {
            if (!(Text.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string? ExplainDigest(string digest)
    {
        var colon = digest.IndexOf(':');
        if (colon <= 0)
        {
            return $"has digest '{digest}'; a digest is algorithm:hex such as 'sha256:…'";
        }

        foreach (var c in digest.Substring(0, colon))
        {
            if (!(IsLowerAlnum(c) || c is '+' or '.' or '_' or '-'))
            {
                return $"has digest algorithm '{digest.Substring(0, colon)}'; use lower-case letters and digits such as 'sha256'";
            }
        }

        var hex = digest.Substring(colon + 1);
        if (hex.Length < 32)
        {
            return $"has digest '{digest}' whose hex part is shorter than 32 characters";
        }

        foreach (var c in hex)
        {
            if (!(Text.IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            {
                return $"has digest '{digest}' whose hex part contains {Text.Describe(c)}";
            }
        }

        return null;
    }
}
