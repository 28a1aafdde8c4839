package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print hop's version, the commit it was built from, and the Go version (also hop --version)",
		usage:   "version [--json]",
		help: `Prints hop's module version ("devel" when built from a source tree), the
version control commit it was built from and whether that tree had
uncommitted changes ("modified"), the Go version that built it, and the
operating system and architecture. A report of a problem should include it.`,
		run: runVersion,
	}
}

// versionInfo is what hop version prints.
type versionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

// buildVersion reads the version from bi, the binary's build information
// (ok false: there is none).
func buildVersion(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: "devel", Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if !ok || bi == nil {
		return v
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			v.OS = s.Value
		case "GOARCH":
			v.Arch = s.Value
		}
	}
	return v
}

func (v versionInfo) String() string {
	s := "hop " + v.Version
	if v.Commit != "" {
		s += ", commit " + v.Commit
		if v.CommitTime != "" {
			s += " of " + v.CommitTime
		}
		if v.Modified {
			s += " (modified)"
		}
	}
	return s + ", " + v.Go + " " + v.OS + "/" + v.Arch
}

func runVersion(_ context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the version as JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	v := buildVersion(debug.ReadBuildInfo())
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintln(e.stdout, v)
	return err
}
