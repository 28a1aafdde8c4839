package keytab

// GoString is String, so that a direct call prints no key either; Format
// already answers %#v with String.
func (e Entry) GoString() string { return "keytab.Entry{" + e.String() + "}" }
