package jea

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxOutput is the default bound on the output a transcript keeps
// per command (stdout and stderr together).
const DefaultMaxOutput = 1 << 20

// TranscriptConfig configures [OpenTranscriptWith]. Zero values are the
// defaults.
type TranscriptConfig struct {
	Dir      string // the transcript directory; created 0700 if missing, group/other bits removed if present
	Session  string // the session id: 1-128 of [A-Za-z0-9._-], not starting with '.'; the file is Dir/Session.jsonl
	User     string // the real (authenticated) user, e.g. alice@EXAMPLE.TEST
	Endpoint string // the endpoint name
	RunAs    string // optional: the local account commands run as

	// MaxOutput bounds the output bytes written per command (both streams
	// together); what is beyond is counted, not written, and the count is
	// recorded as "omitted" in the command's exit record. Default
	// DefaultMaxOutput; negative: no output is written at all.
	MaxOutput int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Transcript is the record of one session on a JEA endpoint: one file of
// JSON lines, each with "time" (RFC 3339, UTC) and "type":
//
//	{"type":"start","session":…,"user":…,"endpoint":…,"run_as":…}
//	{"type":"command","seq":1,"argv":[…],"command":"rndc reload"}          (see Begin)
//	{"type":"output","seq":1,"stream":"stdout","data":"…"}                   ("data_b64" when not UTF-8)
//	{"type":"exit","seq":1,"exit":0,"omitted":0}
//	{"type":"end"}
//
// seq numbers the commands of the session; output records carry the seq of
// the command they belong to. A Transcript is safe for concurrent use (the
// stdout and stderr copiers may call Output at the same time). Write errors
// are kept and returned by Close.
type Transcript struct {
	mu        sync.Mutex
	f         *os.File
	now       func() time.Time
	maxOutput int
	seq       int  // number of the current or last command
	open      bool // a command is open (Begin called, or output seen)
	begun     bool // the open command's argv was written by Begin
	written   int  // output bytes written for the open command
	omitted   int64
	err       error
	closed    bool
}

// OpenTranscript creates the transcript of a session in dir with the
// default configuration (see [TranscriptConfig]).
func OpenTranscript(dir, session, user, endpoint string) (*Transcript, error) {
	return OpenTranscriptWith(TranscriptConfig{Dir: dir, Session: session, User: user, Endpoint: endpoint})
}

// OpenTranscriptWith creates the transcript file (mode 0600, never an
// existing file or a symbolic link) and writes its start record.
func OpenTranscriptWith(c TranscriptConfig) (*Transcript, error) {
	if err := checkSession(c.Session); err != nil {
		return nil, err
	}
	if c.Dir == "" {
		return nil, errors.New("jea: transcript directory is not set")
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("jea: transcript directory: %w", err)
	}
	fi, err := os.Stat(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("jea: transcript directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("jea: transcript directory %s is not a directory", c.Dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(c.Dir, fi.Mode().Perm()&0o700); err != nil {
			return nil, fmt.Errorf("jea: transcript directory %s is accessible to others (mode %04o) and cannot be restricted: %w",
				c.Dir, fi.Mode().Perm(), err)
		}
	}
	name := filepath.Join(c.Dir, c.Session+".jsonl")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND|oNoFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("jea: transcript: %w", err)
	}
	t := &Transcript{f: f, now: c.Now, maxOutput: c.MaxOutput}
	if t.now == nil {
		t.now = time.Now
	}
	if t.maxOutput == 0 {
		t.maxOutput = DefaultMaxOutput
	}
	t.write(record{Type: "start", Session: c.Session, User: c.User, Endpoint: c.Endpoint, RunAs: c.RunAs})
	if t.err != nil {
		f.Close()
		os.Remove(name)
		return nil, t.err
	}
	return t, nil
}

func checkSession(s string) error {
	if s == "" || len(s) > 128 || s[0] == '.' {
		return fmt.Errorf("jea: transcript session id %q is empty, too long or starts with '.'", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("jea: transcript session id %q has a character other than letters, digits, . _ -", s)
		}
	}
	return nil
}

type record struct {
	Time     string   `json:"time"`
	Type     string   `json:"type"`
	Session  string   `json:"session,omitempty"`
	User     string   `json:"user,omitempty"`
	Endpoint string   `json:"endpoint,omitempty"`
	RunAs    string   `json:"run_as,omitempty"`
	Seq      int      `json:"seq,omitempty"`
	Argv     []string `json:"argv,omitempty"`
	Command  string   `json:"command,omitempty"`
	Stream   string   `json:"stream,omitempty"`
	Data     *string  `json:"data,omitempty"`
	DataB64  string   `json:"data_b64,omitempty"`
	Exit     *int     `json:"exit,omitempty"`
	Omitted  *int64   `json:"omitted,omitempty"`
}

// write encodes one record; t.mu is held (or t is not shared yet).
func (t *Transcript) write(r record) {
	if t.err != nil {
		return
	}
	r.Time = t.now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(r)
	if err != nil {
		t.err = fmt.Errorf("jea: transcript: %w", err)
		return
	}
	if _, err := t.f.Write(append(b, '\n')); err != nil {
		t.err = fmt.Errorf("jea: transcript: %w", err)
	}
}

// Begin records a command before it runs, so that the command line is on
// disk even if the agent dies while it runs; End records its exit status.
func (t *Transcript) Begin(argv []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if t.open {
		t.finish(nil, -1)
	}
	t.seq++
	t.open, t.begun, t.written, t.omitted = true, true, 0, 0
	t.write(record{Type: "command", Seq: t.seq, Argv: nonNil(argv), Command: Join(argv)})
}

// End records the exit status of the command opened by Begin (or by
// Output); without one it does nothing.
func (t *Transcript) End(exit int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || !t.open {
		return
	}
	t.finish(nil, exit)
}

// Command records a command and its exit status (126 for a refused one, by
// the agent's convention). When Begin opened the command, only the exit
// record is written; when its output was recorded first, the command record
// follows the output (same seq). Otherwise it records a command that
// produced no output (e.g. refused).
func (t *Transcript) Command(argv []string, exit int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if !t.open {
		t.seq++
		t.open, t.begun, t.written, t.omitted = true, false, 0, 0
	}
	t.finish(argv, exit)
}

// finish closes the open command: a command record first if Begin did not
// write one, then the exit record.
func (t *Transcript) finish(argv []string, exit int) {
	if !t.begun {
		t.write(record{Type: "command", Seq: t.seq, Argv: nonNil(argv), Command: Join(argv)})
	}
	omitted := t.omitted
	t.write(record{Type: "exit", Seq: t.seq, Exit: &exit, Omitted: &omitted})
	t.open, t.begun = false, false
}

func nonNil(argv []string) []string {
	if argv == nil {
		return []string{}
	}
	return argv
}

// Output records output of the current command on stream ("stdout" or
// "stderr"). Once the command's output reaches MaxOutput bytes the rest is
// only counted. Output before any Begin opens a command whose argv the
// next Command call supplies.
func (t *Transcript) Output(stream string, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || len(p) == 0 {
		return
	}
	if !t.open {
		t.seq++
		t.open, t.begun, t.written, t.omitted = true, false, 0, 0
	}
	room := t.maxOutput - t.written
	if room < 0 {
		room = 0
	}
	if len(p) > room {
		t.omitted += int64(len(p) - room)
		p = p[:room]
	}
	if len(p) == 0 {
		return
	}
	t.written += len(p)
	r := record{Type: "output", Seq: t.seq, Stream: stream}
	if utf8.Valid(p) {
		s := string(p)
		r.Data = &s
	} else {
		r.DataB64 = base64.StdEncoding.EncodeToString(p)
	}
	t.write(r)
}

// Writer returns an io.Writer that records what is written to it as output
// on stream (for io.MultiWriter with the session's channel). It never
// fails.
func (t *Transcript) Writer(stream string) io.Writer {
	return streamWriter{t, stream}
}

type streamWriter struct {
	t      *Transcript
	stream string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.t.Output(w.stream, p)
	return len(p), nil
}

// Close records an exit status of -1 for a command still open, writes the
// end record, syncs and closes the file. It returns the first error of any
// write. Calls after the first do nothing and return nil.
func (t *Transcript) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	if t.open {
		t.finish(nil, -1)
	}
	t.write(record{Type: "end"})
	t.closed = true
	err := t.err
	if e := t.f.Sync(); err == nil && e != nil {
		err = fmt.Errorf("jea: transcript: %w", e)
	}
	if e := t.f.Close(); err == nil && e != nil {
		err = fmt.Errorf("jea: transcript: %w", e)
	}
	return err
}
