using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Attributes;
using WxkfManager.Registry;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// The change marker replicas read incrementally: every write through this service sets it from the
/// server's clock (<c>$currentDate</c>), so it orders writes from all replicas. The original's documents
/// have none; the full reload reads them.
/// </summary>
public sealed partial class PuppetDocument
{
    public const string UpdatedAtElement = "updatedAt";

    [BsonElement(UpdatedAtElement)]
    [BsonIgnoreIfNull]
    public DateTime? UpdatedAt { get; set; }

    /// <summary>
    /// One stored document as a registration, or why it cannot be one. Never throws: a document the
    /// original left with a null, or a value of another type, is reported by field.
    /// </summary>
    public static (PuppetRegistration? Registration, UnloadableRegistration? Unloadable) Read(BsonDocument raw)
    {
        var kfId = raw.TryGetValue("kfOpenId", out var value) && value.IsString && value.AsString.Length > 0
            ? value.AsString
            : UnloadableRegistration.UnknownKfId;
        PuppetDocument document;
        try
        {
            document = BsonSerializer.Deserialize<PuppetDocument>(raw);
        }
        catch (Exception exception) when (exception is FormatException or BsonException or InvalidCastException)
        {
            return (null, new UnloadableRegistration(kfId, FieldNamedIn(exception), "has a value of the wrong type"));
        }
        var registration = document.ToRegistration();
        return RegistrationCheck.MissingField(registration) is { } missing ? (null, missing) : (registration, null);
    }

    /// <summary>The marker a raw document carries, whether or not it can be loaded.</summary>
    public static DateTime? MarkerOf(BsonDocument raw) =>
        raw.TryGetValue(UpdatedAtElement, out var value) && value.IsValidDateTime ? value.ToUniversalTime() : null;

    // The driver names the property it failed on ("... deserializing the Online property of class ..."),
    // never the value; map it back to the stored element name.
    private static string FieldNamedIn(Exception exception)
    {
        var message = exception.Message;
        foreach (var member in BsonClassMap.LookupClassMap(typeof(PuppetDocument)).AllMemberMaps)
        {
            if (message.Contains($"the {member.MemberName} property", StringComparison.Ordinal))
            {
                return member.ElementName;
            }
        }
        return "document";
    }
}
