package remote

import (
	"testing"

	"hop/krb5"
)

func TestGuardAllows(t *testing.T) {
	spn := func(s string) krb5.Principal {
		p, err := krb5.ParsePrincipal(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	g := &Guard{AllowHop: []string{"cifs/c.example.test", "host/*.example.test", "HTTP/web.example.test@OTHER.TEST"}}
	for target, want := range map[string]bool{
		"cifs/c.example.test@EXAMPLE.TEST":   true,
		"CIFS/C.example.test@EXAMPLE.TEST":   true,
		"host/d.example.test@EXAMPLE.TEST":   true,
		"host/d.evil.test@EXAMPLE.TEST":      false,
		"host/a/b.example.test@EXAMPLE.TEST": false,
		"cifs/d.example.test@EXAMPLE.TEST":   false,
		"HTTP/web.example.test@EXAMPLE.TEST": false,
		"HTTP/web.example.test@OTHER.TEST":   true,
		"krbtgt/EXAMPLE.TEST@EXAMPLE.TEST":   false,
	} {
		if got := g.allows(spn(target)); got != want {
			t.Errorf("allows(%s) = %v, want %v", target, got, want)
		}
	}
	if !(&Guard{}).allows(spn("cifs/x@R")) {
		t.Error("no --allow-hop: every service")
	}
	for _, bad := range [][]string{{"cifs"}, {"cifs/[x"}} {
		if err := CheckAllowHop(bad); err == nil {
			t.Errorf("CheckAllowHop(%q) accepted", bad)
		}
	}
	if err := CheckAllowHop([]string{"cifs/*.example.test@EXAMPLE.TEST"}); err != nil {
		t.Error(err)
	}
}
