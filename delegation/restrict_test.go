package delegation

import (
	"strings"
	"testing"
)

func TestRestriction(t *testing.T) {
	for _, tc := range []struct {
		r     Restriction
		mode  string
		pass  bool
		allow bool
	}{
		{RestrictOff, "forward", true, true},
		{RestrictPreferRemoteGuard, "remote-guard", false, true},
		{RestrictPreferRemoteGuard, "constrained", false, true},
		{RestrictPreferRemoteGuard, "restricted-admin", false, true},
		{RestrictPreferRemoteGuard, "forward", false, false},
		{RestrictPreferRemoteGuard, "credssp", false, false},
		{RestrictPreferRemoteGuard, "none", true, false},
		{RestrictRequireRemoteGuard, "remote-guard", false, true},
		{RestrictRequireRemoteGuard, "constrained", false, false},
		{RestrictRequireRemoteGuard, "", false, false},
		{RestrictRequireRestrictedAdmin, "restricted-admin", false, true},
		{RestrictRequireRestrictedAdmin, "remote-guard", false, false},
	} {
		if why := tc.r.Allows(tc.mode, tc.pass); (why == "") != tc.allow {
			t.Errorf("%s allows %q (pass %v): %q, want allowed %v", tc.r, tc.mode, tc.pass, why, tc.allow)
		}
	}
	if r, err := RestrictOff.Stricter(RestrictPreferRemoteGuard); err != nil || r != RestrictPreferRemoteGuard {
		t.Errorf("off, prefer: %v %v", r, err)
	}
	if r, err := RestrictRequireRemoteGuard.Stricter(RestrictPreferRemoteGuard); err != nil || r != RestrictRequireRemoteGuard {
		t.Errorf("require, prefer: %v %v", r, err)
	}
	if _, err := RestrictRequireRemoteGuard.Stricter(RestrictRequireRestrictedAdmin); err == nil {
		t.Error("two requirements combined")
	}
	if r, err := ParseRestriction(""); err != nil || r != RestrictOff {
		t.Errorf("empty: %v %v", r, err)
	}
	if _, err := ParseRestriction("strict"); err == nil || !strings.Contains(err.Error(), "prefer-remote-guard") {
		t.Errorf("unknown: %v", err)
	}
	if RestrictPreferRemoteGuard.Default() != "remote-guard" || RestrictOff.Default() != "" {
		t.Error("defaults")
	}
}
