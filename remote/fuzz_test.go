package remote

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const fuzzKnownHosts = "b.example.test,b ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDu2mMqR8Q3qFJX8nqv4aBg3n9tN6Y1nGZ8rQYk3Gv1T root@b\n"

// FuzzKnownHosts feeds known_hosts files from disk (untrusted text) to the
// parser: no panic, and every key it returns appears in the input.
func FuzzKnownHosts(f *testing.F) {
	f.Add([]byte(fuzzKnownHosts), "b.example.test", 22)
	f.Add([]byte("@revoked * "+strings.TrimPrefix(fuzzKnownHosts, "b.example.test,b ")), "b.example.test", 0)
	f.Add([]byte("|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAA\n[b.example.test]:2222,!c* ssh-rsa AAAA"), "b.example.test", 2222)
	f.Add([]byte("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?x ssh-ed25519 AAAA"), strings.Repeat("a", 200), 1)
	f.Fuzz(func(t *testing.T, data []byte, host string, port int) {
		keys := parseKnownHosts(data, host, port)
		if len(keys) > MaxHostKeys {
			t.Fatalf("%d keys", len(keys))
		}
	})
}

// FuzzBannerText: an agent's banner becomes one printable, bounded line.
func FuzzBannerText(f *testing.F) {
	f.Add("alice is not in b-remote-users or b-admins\r\n", "")
	f.Add("\x1b[2J\x00line\nbreak", strings.Repeat("é", 400))
	f.Fuzz(func(t *testing.T, a, b string) {
		s := bannerText([]string{a, b})
		if strings.ContainsAny(s, "\r\n") || !utf8.ValidString(s) || len(s) > maxReason+2 {
			t.Fatalf("bannerText = %q", s)
		}
	})
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"?.example.test", "b.example.test", true}, {"?.example.test", "bb.example.test", false},
		{"*.example.test", "example.test", false}, {"b*b*b", "bxbxxb", true}, {"", "", true}, {"", "a", false},
	} {
		if got := wildcard(tc.p, tc.s); got != tc.ok {
			t.Errorf("wildcard(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// FuzzBannerLines: a banner printed after a successful login keeps no
// control character but the newlines that end its lines.
func FuzzBannerLines(f *testing.F) {
	f.Add("Welcome to b.example.test\r\n")
	f.Add("\x1b]0;owned\x07\x1b[2J\r\n\u202e\x00\x7f\rbye")
	f.Add(strings.Repeat("\n", 100))
	f.Fuzz(func(t *testing.T, banner string) {
		s := bannerLines(banner)
		if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) }) >= 0 {
			t.Fatalf("bannerLines(%q) = %q", banner, s)
		}
		if s != "" && !strings.HasSuffix(s, "\n") {
			t.Fatalf("bannerLines(%q) = %q: not newline-terminated", banner, s)
		}
	})
}

// FuzzHostKeyCache feeds cache files (the user's own, but read back from
// disk) to the parser: no panic, and what it keeps is within bounds.
func FuzzHostKeyCache(f *testing.F) {
	f.Add([]byte(`{"hosts":{"b.example.test":{"read":"2026-12-03T12:00:00Z","keys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDu2mMqR8Q3qFJX8nqv4aBg3n9tN6Y1nGZ8rQYk3Gv1T"]}}}`))
	f.Add([]byte(`{"hosts":{"B.EXAMPLE.TEST":{"keys":["x"]},"127.0.0.1":{"keys":["x"]},"b.example.test:22":{"keys":["x"]},"c":{"keys":[]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hosts := parseHostKeyCache(data)
		if len(hosts) > MaxHostKeyCacheHosts {
			t.Fatalf("%d hosts", len(hosts))
		}
		for h, e := range hosts {
			if name, port, err := SplitHost(h); err != nil || port != 0 || name != h || len(e.Keys) == 0 || len(e.Keys) > MaxHostKeys {
				t.Fatalf("kept %q: %+v", h, e)
			}
		}
	})
}
