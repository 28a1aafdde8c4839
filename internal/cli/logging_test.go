package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/slogtest"
	"time"
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
