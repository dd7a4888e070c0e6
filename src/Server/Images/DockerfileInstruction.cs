using System.Text;
using System.Text.Json;

namespace TypedSandbox.Server.Images;

/// <summary>The Dockerfile instructions an image definition may use.</summary>
internal enum DockerfileKeyword
{
    From,
    Run,
    Env,
    Workdir,
    User,
    Entrypoint,
    Cmd,
    Label,
    Expose,
    Maintainer,
    StopSignal,
}

/// <summary>One parsed Dockerfile instruction; <see cref="Text"/> is its normalized source (the step's cache key input).</summary>
internal sealed record DockerfileInstruction(DockerfileKeyword Keyword, string Arguments, string Text)
{
    private static readonly Dictionary<string, DockerfileKeyword> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FROM"] = DockerfileKeyword.From,
        ["RUN"] = DockerfileKeyword.Run,
        ["ENV"] = DockerfileKeyword.Env,
        ["WORKDIR"] = DockerfileKeyword.Workdir,
        ["USER"] = DockerfileKeyword.User,
        ["ENTRYPOINT"] = DockerfileKeyword.Entrypoint,
        ["CMD"] = DockerfileKeyword.Cmd,
        ["LABEL"] = DockerfileKeyword.Label,
        ["EXPOSE"] = DockerfileKeyword.Expose,
        ["MAINTAINER"] = DockerfileKeyword.Maintainer,
        ["STOPSIGNAL"] = DockerfileKeyword.StopSignal,
    };

    private static readonly Dictionary<string, string> Refusals = new(StringComparer.OrdinalIgnoreCase)
    {
        ["COPY"] = "COPY is not supported by the local engine yet; install files with RUN, or mount them into the sandbox as a volume",
        ["ADD"] = "ADD is not supported by the local engine yet; download files with RUN instead",
        ["ARG"] = "ARG is not supported by the local engine; use ENV",
        ["SHELL"] = "SHELL is not supported by the local engine; call the shell explicitly in RUN (exec form)",
        ["ONBUILD"] = "ONBUILD is not supported by the local engine",
        ["VOLUME"] = "VOLUME is not supported by the local engine; attach volumes when creating the sandbox",
        ["HEALTHCHECK"] = "HEALTHCHECK is not supported by the local engine",
    };

    /// <summary>
    /// Parses the commands of an image definition. Each element may itself hold several lines (a Dockerfile fragment):
    /// backslash continuations are joined, blank lines and <c>#</c> comments skipped.
    /// </summary>
    public static IReadOnlyList<DockerfileInstruction> ParseAll(IReadOnlyList<string> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var result = new List<DockerfileInstruction>();
        foreach (var command in commands)
        {
            foreach (var line in LogicalLines(command ?? ""))
            {
                result.Add(Parse(line));
            }
        }

        if (result.Count == 0)
        {
            throw new InvalidImageDefinitionException("The image definition has no Dockerfile commands; it must start with FROM.");
        }

        if (result[0].Keyword != DockerfileKeyword.From)
        {
            throw new InvalidImageDefinitionException($"The image definition must start with FROM, not '{result[0].Text}'.");
        }

        var secondFrom = result.Skip(1).FirstOrDefault(i => i.Keyword == DockerfileKeyword.From);
        if (secondFrom is not null)
        {
            throw new InvalidImageDefinitionException($"Multi-stage definitions are not supported: '{secondFrom.Text}' is a second FROM.");
        }

        return result;
    }

    private static DockerfileInstruction Parse(string line)
    {
        var space = line.IndexOfAny([' ', '\t']);
        var word = space < 0 ? line : line[..space];
        var arguments = space < 0 ? "" : line[(space + 1)..].Trim();
        if (Refusals.TryGetValue(word, out var refusal))
        {
            throw new InvalidImageDefinitionException($"'{Shorten(line)}': {refusal}.");
        }

        if (!Keywords.TryGetValue(word, out var keyword))
        {
            throw new InvalidImageDefinitionException($"'{Shorten(line)}' is not a Dockerfile instruction the local engine supports " +
                "(FROM, RUN, ENV, WORKDIR, USER, ENTRYPOINT, CMD, LABEL, EXPOSE, MAINTAINER, STOPSIGNAL).");
        }

        if (arguments.Length == 0)
        {
            throw new InvalidImageDefinitionException($"'{line}' needs arguments.");
        }

        return new DockerfileInstruction(keyword, arguments, word.ToUpperInvariant() + " " + arguments);
    }

    private static IEnumerable<string> LogicalLines(string text)
    {
        var current = new StringBuilder();
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.TrimEnd();
            if (current.Length == 0 && (line.TrimStart().Length == 0 || line.TrimStart().StartsWith('#')))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current.Append(line, 0, line.Length - 1).Append(' ');
                continue;
            }

            current.Append(line);
            yield return current.ToString().Trim();
            current.Clear();
        }

        if (current.Length > 0 && current.ToString().Trim().Length > 0)
        {
            yield return current.ToString().Trim();
        }
    }

    /// <summary>Parses the arguments of RUN, CMD or ENTRYPOINT: a JSON array (exec form) or a shell command.</summary>
    public IReadOnlyList<string> CommandArgv()
    {
        if (Arguments.StartsWith('['))
        {
            try
            {
                var argv = JsonSerializer.Deserialize<string[]>(Arguments);
                if (argv is { Length: > 0 })
                {
                    return argv;
                }
            }
            catch (JsonException)
            {
                // Not valid JSON: Docker treats it as shell form too.
            }
        }

        return ["/bin/sh", "-c", Arguments];
    }

    /// <summary>Parses <c>ENV a=b c="d e"</c> or the legacy <c>ENV a b c</c>, expanding <c>$VAR</c> from <paramref name="env"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> EnvPairs(ImageConfig env)
    {
        var first = Arguments.IndexOfAny([' ', '\t', '=']);
        if (first < 0 || Arguments[first] != '=')
        {
            // Legacy form: the first word is the name, the rest (verbatim, expanded) the value.
            if (first < 0)
            {
                throw new InvalidImageDefinitionException($"'{Text}' needs a value: use ENV NAME=value.");
            }

            var name = Arguments[..first];
            ValidateEnvName(name);
            return [new(name, Expand(Arguments[(first + 1)..].Trim(), env))];
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var word in SplitWords(Arguments, env))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InvalidImageDefinitionException($"'{Text}': '{word}' is not NAME=value.");
            }

            ValidateEnvName(word[..eq]);
            pairs.Add(new(word[..eq], word[(eq + 1)..]));
        }

        return pairs;
    }

    private void ValidateEnvName(string name)
    {
        if (name.Length == 0 || name.Any(c => c is '=' or '\0' or '$' || char.IsWhiteSpace(c)))
        {
            throw new InvalidImageDefinitionException($"'{Text}': '{name}' is not a valid environment variable name.");
        }
    }

    /// <summary>Splits on unquoted whitespace, removing quotes and backslash escapes and expanding variables outside single quotes.</summary>
    internal static List<string> SplitWords(string text, ImageConfig env)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\\' when i + 1 < text.Length:
                    word.Append(text[++i]);
                    break;
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new InvalidImageDefinitionException($"Unterminated single quote in '{text}'.");
                    }

                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    i++;
                    while (i < text.Length && text[i] != '"')
                    {
                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$')
                        {
                            i++;
                            word.Append(text[i++]);
                        }
                        else if (text[i] == '$')
                        {
                            i = AppendVariable(text, i, env, word);
                        }
                        else
                        {
                            word.Append(text[i++]);
                        }
                    }

                    if (i >= text.Length)
                    {
                        throw new InvalidImageDefinitionException($"Unterminated double quote in '{text}'.");
                    }

                    break;
                case '$':
                    i = AppendVariable(text, i, env, word) - 1;
                    break;
                default:
                    word.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    /// <summary>Expands <c>$NAME</c> and <c>${NAME}</c> in <paramref name="text"/> (no quote handling).</summary>
    internal static string Expand(string text, ImageConfig env)
    {
        var result = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == '$')
            {
                result.Append('$');
                i += 2;
            }
            else if (text[i] == '$')
            {
                i = AppendVariable(text, i, env, result);
            }
            else
            {
                result.Append(text[i++]);
            }
        }

        return result.ToString();
    }

    /// <summary>Appends the value of the variable starting at <paramref name="dollar"/>; returns the index after it.</summary>
    private static int AppendVariable(string text, int dollar, ImageConfig env, StringBuilder output)
    {
        var i = dollar + 1;
        string name;
        if (i < text.Length && text[i] == '{')
        {
            var close = text.IndexOf('}', i);
            if (close < 0)
            {
                throw new InvalidImageDefinitionException($"Unterminated '${{' in '{text}'.");
            }

            name = text[(i + 1)..close];
            i = close + 1;
        }
        else
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
            {
                i++;
            }

            name = text[start..i];
            if (name.Length == 0)
            {
                output.Append('$');
                return i;
            }
        }

        output.Append(env.GetEnv(name) ?? "");
        return i;
    }

    private static string Shorten(string line) => line.Length > 80 ? line[..80] + "…" : line;
}
