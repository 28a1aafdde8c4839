package jea

import (
	"strings"
	"testing"
)

func BenchmarkSplit(b *testing.B) {
	for b.Loop() {
		Split(`rndc reload 'example.test' "a b"`)
	}
}

func BenchmarkCheckAllowed(b *testing.B) {
	p := samplePolicy(b)
	m := groups("dns-operators")
	argv := []string{"rndc", "status", "example.test"}
	for b.Loop() {
		if !p.Check(m, argv).Allowed {
			b.Fatal("refused")
		}
	}
}

func BenchmarkCheckRefused(b *testing.B) {
	p := samplePolicy(b)
	m := groups("dns-operators", "web-ops")
	argv := []string{"rndc", "flush", "x"}
	for b.Loop() {
		if p.Check(m, argv).Allowed {
			b.Fatal("allowed")
		}
	}
}

// BenchmarkCheckWorst is the largest input Check looks at: the maximum
// number of arguments of the maximum length, refused only at the end.
func BenchmarkCheckWorst(b *testing.B) {
	e := Endpoint{RunAs: "x", Roles: []Role{{Groups: []string{"g"}, Commands: []Command{{Path: "/usr/bin/x"}}}}}
	for i := 0; i < MaxArgs; i++ {
		e.Roles[0].Commands[0].Args = append(e.Roles[0].Commands[0].Args, Arg{Regex: "[a-z]+(x|y)*[a-z]*"})
	}
	p, _, err := e.Compile()
	if err != nil {
		b.Fatal(err)
	}
	argv := []string{"x"}
	for i := 0; i < MaxArgs; i++ {
		argv = append(argv, strings.Repeat("a", MaxArgLen))
	}
	argv[MaxArgs] = strings.Repeat("a", MaxArgLen-1) + "-"
	cmd := Join(argv)
	b.ResetTimer()
	for b.Loop() {
		a, err := Split(cmd)
		if err != nil {
			b.Fatal(err)
		}
		if p.Check(groups("g"), a).Allowed {
			b.Fatal("allowed")
		}
	}
}
