using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;

namespace WxkfManager.Delivery;

/// <summary>A lease shorter than the worst-case attempt lets a second worker deliver an event still in flight: refused at start.</summary>
public sealed class DeliveryLeaseValidation : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
    {
        var worst = DeliveryGate.WorstCaseAttempt(options);
        return options.LeaseDuration > worst
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Delivery:LeaseDuration ({options.LeaseDuration.TotalSeconds:F1} s) must be longer than the worst-case attempt " +
                $"(Delivery:AttemptTimeout, {worst.TotalSeconds:F1} s); raise it or lower AttemptTimeout");
    }
}
