package ccache

// GoString is String, so that a direct call prints neither the session key
// nor the ticket; Format already answers %#v with String.
func (c Credential) GoString() string { return "ccache.Credential{" + c.String() + "}" }
