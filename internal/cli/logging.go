package cli

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// logFlags are the flags of a long-running command's operational log
// (hop kdc, hop agent), which goes to standard error.
type logFlags struct{ level, format *string }

func addLogFlags(fs *flag.FlagSet) *logFlags {
	return &logFlags{
		level:  fs.String("log-level", "info", "operational log `LEVEL`: debug, info, warn or error"),
		format: fs.String("log-format", "text", "operational log `FORMAT`: text (for people: time, level, message, then KEY=VALUE) or json (slog's JSON lines, for programs)"),
	}
}

// logger returns the logger the flags ask for, writing to w.
func (l *logFlags) logger(c *command, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*l.level)); err != nil {
		return nil, usagef("%s: --log-level %q: give debug, info, warn or error", c.path, *l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch *l.format {
	case "text":
		return slog.New(newHumanHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("%s: --log-format %q: give text or json%s", c.path, *l.format, didYouMean(*l.format, []string{"text", "json"}))
}

// humanHandler writes a record as one line for a person reading a
// terminal or a log file: "17:50:01 INFO hop agent ready host=b listen=…"
// (the local time of day, the level, the message, then each attribute as
// KEY=VALUE, VALUE quoted when it holds spaces, quotes or '='; a group's
// keys are GROUP.KEY).
type humanHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	attrs  string // the formatted attributes of WithAttrs
	prefix string // the groups of WithGroup, "g.h."
}

func newHumanHandler(w io.Writer, opts *slog.HandlerOptions) *humanHandler {
	h := &humanHandler{mu: new(sync.Mutex), w: w, level: slog.LevelInfo}
	if opts != nil && opts.Level != nil {
		h.level = opts.Level
	}
	return h
}

func (h *humanHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *humanHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if !r.Time.IsZero() {
		b.WriteString(r.Time.Format(time.TimeOnly))
		b.WriteByte(' ')
	}
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.prefix, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *humanHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs += b.String()
	return &h2
}

func (h *humanHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix += name + "."
	return &h2
}

// appendAttr writes " KEY=VALUE" for a, with the key under prefix.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(quoteLogText(prefix + a.Key))
	b.WriteByte('=')
	var s string
	switch a.Value.Kind() {
	case slog.KindTime:
		s = a.Value.Time().Format(time.RFC3339Nano)
	default:
		s = a.Value.String()
	}
	b.WriteString(quoteLogText(s))
}

// quoteLogText quotes s when, written bare, it could not be told apart
// from the text around it.
func quoteLogText(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == '=' || r == '"' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
