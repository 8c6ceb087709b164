using WxkfManager.Settings;

namespace WxkfManager.Registry;

/// <summary>
/// Whether a registration of a kfId this manager does not know yet would exceed the fleet's or its corp's cap;
/// a puppet already registered may always register again.
/// </summary>
public static class RegistrationCaps
{
    public static string? Refusal(PuppetRegistration? existing, string corpId, int fleetCount, int corpCount, RegistrationOptions options)
    {
        if (existing is not null)
        {
            return null;
        }
        if (fleetCount >= options.MaxPuppets)
        {
            return $"this manager already holds its limit of {options.MaxPuppets} puppets (Registration__MaxPuppets)";
        }
        return corpCount >= options.MaxPuppetsPerCorp
            ? $"corp {corpId} already has its limit of {options.MaxPuppetsPerCorp} puppets (Registration__MaxPuppetsPerCorp)"
            : null;
    }
}
