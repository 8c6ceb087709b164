namespace WxkfManager.Registry;

/// <summary>
/// One running copy of a puppet, as its registration showed it: the address the call came from and the
/// endpoint it gave. During a rolling restart a puppet briefly has two.
/// </summary>
public sealed record PuppetInstance(string Address, string Endpoint, DateTime RegisteredAt);
