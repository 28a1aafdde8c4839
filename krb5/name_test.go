package krb5

import (
	"errors"
	"testing"
)

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		in    string
		comps []string
		realm Realm
		typ   NameType
	}{
		{"alice", []string{"alice"}, "", NTPrincipal},
		{"alice@EXAMPLE.TEST", []string{"alice"}, "EXAMPLE.TEST", NTPrincipal},
		{"b$@EXAMPLE.TEST", []string{"b$"}, "EXAMPLE.TEST", NTPrincipal},
		{"host/b.example.test@EXAMPLE.TEST", []string{"host", "b.example.test"}, "EXAMPLE.TEST", NTSrvInst},
		{`alice\@example.test@EXAMPLE.TEST`, []string{"alice@example.test"}, "EXAMPLE.TEST", NTPrincipal},
		{`a\/b/c`, []string{"a/b", "c"}, "", NTSrvInst},
	}
	for _, tt := range tests {
		p, err := ParsePrincipal(tt.in)
		if err != nil {
			t.Errorf("ParsePrincipal(%q): %v", tt.in, err)
			continue
		}
		if !p.Name.Equal(NewName(tt.typ, tt.comps...)) || p.Realm != tt.realm || p.Name.Type != tt.typ {
			t.Errorf("ParsePrincipal(%q) = %#v", tt.in, p)
		}
		if got := p.String(); got != tt.in {
			t.Errorf("round trip %q -> %q", tt.in, got)
		}
	}
	for _, bad := range []string{"", "a//b", "a@", `a\`, "a@B@C", "/a"} {
		if _, err := ParsePrincipal(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("ParsePrincipal(%q) err = %v, want ErrBadName", bad, err)
		}
	}
}

func TestFlagsBits(t *testing.T) {
	if TktForwardable != 0x40000000 || OptValidate != 1 || OptCanonicalize != 0x00010000 {
		t.Fatalf("flag bit numbering is wrong: %#x %#x %#x", TktForwardable, OptValidate, OptCanonicalize)
	}
	if got := TicketFlagString(TktForwardable | TktInitial | TktPreAuthent); got != "forwardable,initial,pre-authent" {
		t.Errorf("TicketFlagString = %q", got)
	}
}

func TestRealmEqual(t *testing.T) {
	if !Realm("example.test").Equal("EXAMPLE.TEST") || Realm("a").Equal("b") {
		t.Fatal("realm comparison is not case-insensitive")
	}
}
