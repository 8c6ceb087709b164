using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Options;

namespace WxkfManager.Extensions;

/// <summary>
/// A setting that stops start-up is reported as one line naming it the way the operator wrote it
/// (<c>Delivery__MaxRetries</c> for an environment variable, <c>Delivery:MaxRetries</c> for a JSON file),
/// in JSON when LOG_FORMAT=json, and the process exits with 1: no stack trace, no crash code.
/// </summary>
public static partial class StartupFailure
{
    public const int ExitCode = 1;

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// True when this service is the process (not hosted by a test's WebApplicationFactory, which must see the
    /// exception itself: it waits on the entry point and would take a quiet return for a start).
    /// </summary>
    public static bool IsOwnProcess => Assembly.GetEntryAssembly() == typeof(StartupFailure).Assembly;

    public static bool IsConfigurationError(Exception exception) => Unwrap(exception) switch
    {
        OptionsValidationException => true,
        InvalidOperationException { Message: var m } when ConversionFailure().IsMatch(m) => true,
        _ => false,
    };

    public static int Report(Exception exception, IConfiguration? configuration, TextWriter output)
    {
        var problems = Describe(Unwrap(exception), configuration as IConfigurationRoot);
        var message = "Invalid configuration, not starting: " + string.Join("; ", problems.Select(p => p.Setting is null ? p.Problem : $"{p.Setting}: {p.Problem}"));
        if (string.Equals(configuration?["LOG_FORMAT"], "json", StringComparison.OrdinalIgnoreCase))
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["@t"] = DateTime.UtcNow.ToString("O"),
                ["@l"] = "Fatal",
                ["@m"] = message,
                ["Settings"] = problems.Where(p => p.Setting is not null).Select(p => p.Setting).ToArray(),
            }, JsonOptions));
        }
        else
        {
            output.WriteLine($"[{DateTime.UtcNow:HH:mm:ss} FTL] {message}");
        }
        output.Flush();
        return ExitCode;
    }

    private static List<(string? Setting, string Problem)> Describe(Exception exception, IConfigurationRoot? configuration)
    {
        if (exception is InvalidOperationException && ConversionFailure().Match(exception.Message) is { Success: true } conversion)
        {
            var key = conversion.Groups["key"].Value;
            return [(AsWritten(key, configuration), $"'{configuration?[key]}' is not a valid {Friendly(conversion.Groups["type"].Value)}")];
        }
        if (exception is not OptionsValidationException validation)
        {
            return [(null, exception.Message)];
        }
        var section = validation.OptionsType?.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string;
        return validation.Failures.Select(failure =>
        {
            if (DataAnnotationFailure().Match(failure) is { Success: true } annotation && section is not null)
            {
                var key = $"{section}:{annotation.Groups["member"].Value}";
                return (AsWritten(key, configuration), $"'{configuration?[key]}': {annotation.Groups["error"].Value}");
            }
            return ((string?)null, failure);
        }).ToList();
    }

    /// <summary>The key in the form of the source that supplied it: environment variables use __ for :.</summary>
    private static string AsWritten(string key, IConfigurationRoot? configuration)
    {
        var source = configuration?.Providers.Reverse().FirstOrDefault(p => p.TryGet(key, out _));
        return source is EnvironmentVariablesConfigurationProvider ? key.Replace(":", "__", StringComparison.Ordinal) : key;
    }

    private static string Friendly(string type) => type switch
    {
        "System.TimeSpan" => "duration (hh:mm:ss, e.g. 00:00:05)",
        "System.Int32" or "System.Int64" => "whole number",
        "System.Boolean" => "boolean (true or false)",
        _ => type,
    };

    private static Exception Unwrap(Exception exception) => exception switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => exception,
    };

    [GeneratedRegex(@"Failed to convert configuration value (?:'.*' )?at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex ConversionFailure();

    [GeneratedRegex(@"members: '(?<member>[^']+)' with the error: '(?<error>.*)'\.?$")]
    private static partial Regex DataAnnotationFailure();
}
