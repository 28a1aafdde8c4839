package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"hop/domain"
)

func TestHumanLogLine(t *testing.T) {
	var b bytes.Buffer
	h := newHumanHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo})
	r := slog.NewRecord(time.Date(2026, 12, 3, 17, 50, 1, 0, time.Local), slog.LevelInfo, "hop agent ready", 0)
	r.AddAttrs(slog.String("host", "b.lab.test"), slog.String("listen", "127.0.0.2:41319"))
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r = slog.NewRecord(time.Date(2026, 12, 3, 9, 5, 0, 0, time.Local), slog.LevelWarn, "cannot resolve group names now", 0)
	r.AddAttrs(slog.String("err", `lookup "b-remote-users": no such host`), slog.String("empty", ""), slog.Int("n", 3))
	if err := h.WithAttrs([]slog.Attr{slog.String("host", "b")}).WithGroup("dir").Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("debug is enabled at level info")
	}
	want := "17:50:01 INFO hop agent ready host=b.lab.test listen=127.0.0.2:41319\n" +
		`09:05:00 WARN cannot resolve group names now host=b dir.err="lookup \"b-remote-users\": no such host" dir.empty="" dir.n=3` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestHumanLogHandler runs the standard library's conformance tests of a
// slog.Handler on the human format, read back by parseHumanLog.
func TestHumanLogHandler(t *testing.T) {
	var b bytes.Buffer
	h := newHumanHandler(&b, nil)
	results := func() []map[string]any {
		var ms []map[string]any
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			ms = append(ms, parseHumanLog(t, line))
		}
		return ms
	}
	if err := slogtest.TestHandler(h, results); err != nil {
		t.Error(err)
	}
}

var logToken = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\S+`)

// parseHumanLog reads a line of the human format into the map slogtest
// wants: the time, level and message keys, and GROUP.KEY as nested maps.
func parseHumanLog(t *testing.T, line string) map[string]any {
	m := map[string]any{}
	toks := logToken.FindAllString(line, -1)
	if len(toks) > 0 && regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(toks[0]) {
		m[slog.TimeKey] = toks[0]
		toks = toks[1:]
	}
	m[slog.LevelKey], toks = toks[0], toks[1:]
	var msg []string
	for len(toks) > 0 && !strings.Contains(toks[0], "=") {
		msg, toks = append(msg, toks[0]), toks[1:]
	}
	m[slog.MessageKey] = strings.Join(msg, " ")
	for _, kv := range toks {
		k, v, _ := strings.Cut(kv, "=")
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		keys := strings.Split(k, ".")
		at := m
		for _, g := range keys[:len(keys)-1] {
			sub, ok := at[g].(map[string]any)
			if !ok {
				sub = map[string]any{}
				at[g] = sub
			}
			at = sub
		}
		at[keys[len(keys)-1]] = v
	}
	return m
}

func TestLogFormatFlag(t *testing.T) {
	fails(t, 2, `--log-format "xml": give text or json`, "", "agent", "--log-format", "xml")
	fails(t, 2, `--log-format "jsn": give text or json; did you mean json?`, "", "kdc", "--log-format", "jsn")
	fails(t, 2, `--log-level "loud": give debug, info, warn or error`, "", "kdc", "--log-level", "loud")
	var b bytes.Buffer
	lf := &logFlags{level: new(string), format: new(string)}
	*lf.level, *lf.format = "debug", "json"
	l, err := lf.logger(&command{path: "hop agent"}, &b)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hop agent ready", "listen", "127.0.0.2:22")
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil || rec["msg"] != "hop agent ready" || rec["listen"] != "127.0.0.2:22" || rec["level"] != "DEBUG" {
		t.Errorf("--log-format json wrote %q (%v)", b.String(), err)
	}
}

// TestKDCLogs runs hop kdc in each log format and reads its log as a
// person and as a program would.
func TestKDCLogs(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			ok(t, "Admin-pw-1\n", "domain", "init", "--dir", dir, "--realm", "EXAMPLE.TEST")
			ctx, cancel := context.WithCancel(context.Background())
			var errOut string
			done := make(chan int, 1)
			go func() {
				var code int
				_, errOut, code = hopCtx(ctx, "", "kdc", "--dir", dir, "--listen", "127.0.0.1:0", "--kpasswd-listen", "off", "--log-format", format)
				done <- code
			}()
			var state struct{ Listen []string }
			deadline := time.Now().Add(10 * time.Second)
			for {
				if b, err := os.ReadFile(domain.Folder(dir).State()); err == nil && json.Unmarshal(b, &state) == nil && len(state.Listen) > 0 {
					break
				}
				if time.Now().After(deadline) {
					cancel()
					<-done
					t.Fatalf("hop kdc did not start: %s", errOut)
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("hop kdc: exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			switch format {
			case "text":
				want := regexp.MustCompile(`^\d\d:\d\d:\d\d INFO kdc listening realm=EXAMPLE\.TEST udp=(\S+) tcp=\S+$`)
				for _, l := range lines {
					if m := want.FindStringSubmatch(l); m != nil && m[1] == state.Listen[0] {
						return
					}
				}
				t.Errorf("no line %q for %s in:\n%s", want, state.Listen[0], errOut)
			case "json":
				found := false
				for _, l := range lines {
					var rec map[string]any
					if err := json.Unmarshal([]byte(l), &rec); err != nil {
						t.Errorf("not a JSON line: %q", l)
					}
					found = found || rec["msg"] == "kdc listening" && rec["udp"] == state.Listen[0] && rec["level"] == "INFO" && rec["time"] != nil
				}
				if !found {
					t.Errorf("no kdc listening record for %s in:\n%s", state.Listen[0], errOut)
				}
			}
		})
	}
}
