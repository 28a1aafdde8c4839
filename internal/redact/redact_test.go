package redact

import (
	"fmt"
	"testing"
)

type secret struct{ key []byte }

func (s secret) String() string   { return "secret{redacted}" }
func (s secret) GoString() string { return "redact.secret{redacted}" }
func (s secret) Format(f fmt.State, verb rune) {
	Format(f, verb, s.String(), s.GoString())
}

func TestFormat(t *testing.T) {
	s := secret{key: []byte{0xA5, 0xA5}}
	for _, c := range []struct{ format, want string }{
		{"%v", "secret{redacted}"},
		{"%+v", "secret{redacted}"},
		{"%s", "secret{redacted}"},
		{"%x", "secret{redacted}"},
		{"%d", "secret{redacted}"},
		{"%#v", "redact.secret{redacted}"},
		{"%q", `"secret{redacted}"`},
	} {
		if got := fmt.Sprintf(c.format, s); got != c.want {
			t.Errorf("%s: %q, want %q", c.format, got, c.want)
		}
	}
	if Secret("") != "none" || Secret("x") != "redacted" {
		t.Error("Secret")
	}
}
